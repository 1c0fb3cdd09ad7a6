"""The REST API's operations, one ninja Router per resource, mounted on the one API in api.rest."""
