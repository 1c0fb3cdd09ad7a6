import pytest

from webhooks.tests.receiver import Receiver


@pytest.fixture
def receiver():
    started = Receiver().start()
    yield started
    started.stop()


@pytest.fixture
def other_receiver():
    started = Receiver().start()
    yield started
    started.stop()
