from utils.memory import PeakRss, current_rss


def test_peak_follows_an_allocation() -> None:
    tracker = PeakRss()
    before = tracker.peak
    block = bytearray(64 * 1024 * 1024)
    block[::4096] = b"x" * len(block[::4096])  # touch every page so it is resident
    assert tracker.sample() >= before + 48 * 1024 * 1024
    del block
    assert tracker.sample() >= current_rss()


def test_peak_never_goes_down() -> None:
    tracker = PeakRss(start=10**12)
    assert tracker.sample() == 10**12
