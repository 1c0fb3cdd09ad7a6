"""Plans and Stripe subscriptions of workspaces (public schema). Built in its own issue."""
