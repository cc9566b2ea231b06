"""Progress lines for logs, on a clock the test drives."""

from hypergan_tf.progress import ProgressLines, duration


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_a_line_every_interval_with_rate_and_time_left_then_a_final_line():
    clock = Clock()
    lines = ProgressLines("step", interval=30, clock=clock)
    assert lines.update(1, 101) is None  # the reference point: nothing to say yet
    clock.now += 10
    assert lines.update(11, 101) is None  # within the interval
    clock.now += 20  # 30 s after the start, 20 steps since the first update
    assert lines.update(21, 101) == "step 21/101 (21%), 0.67/s, 2 min 0 s left"
    clock.now += 5
    assert lines.update(22, 101) is None
    clock.now += 1000
    assert lines.update(101, 101) == "step 101/101 (100%), done in 17 min 15 s"


def test_durations_read_naturally():
    assert [duration(s) for s in (0, 59.4, 60, 754, 3599, 7380)] == ["0 s", "59 s", "1 min 0 s", "12 min 34 s", "59 min 59 s", "2 h 3 min"]
