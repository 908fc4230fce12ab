"""The alert cursor's state machine and outbox, without Dagster."""

from mesh_platform.alerts.state import MAX_PENDING, OVERLAP_SECONDS, AlertCursor


def test_one_alert_per_state_change_and_one_recovery():
    c = AlertCursor()
    assert [c.transition("s", st) for st in ["PASS", "PASS", "WARN", "WARN", "FAIL", "FAIL", "PASS", "PASS"]] == [
        None,
        None,
        "WARN",
        None,
        "FAIL",
        None,
        "PASS",
        None,
    ]
    assert c.transition("s", "UNKNOWN") is None and c.states == {}  # only failing subjects are kept


def test_events_are_seen_once_and_the_overlap_window_is_reread():
    c = AlertCursor()
    assert c.read_from("checks") is None
    assert c.first_sight("checks", "run1/5", 1000.0)
    assert not c.first_sight("checks", "run1/5", 1000.0)
    assert c.read_from("checks") == 1000.0 - OVERLAP_SECONDS
    c = AlertCursor.load(c.dump())  # survives the round trip through the sensor's cursor string
    assert not c.first_sight("checks", "run1/5", 1000.0)
    assert c.first_sight("checks", "run2/3", 990.0)  # written late, still inside the overlap: seen
    c.first_sight("checks", "run3/1", 1000.0 + 3 * OVERLAP_SECONDS)
    c.prune()
    assert "checks:run1/5" not in c.seen and "checks:run3/1" in c.seen


def test_outbox_keeps_order_and_is_bounded():
    c = AlertCursor()
    dropped = [d for i in range(MAX_PENDING + 2) for d in c.queue({"id": i})]
    assert [d["id"] for d in dropped] == [0, 1]
    assert [a["id"] for a in c.pending][:2] == [2, 3] and len(c.pending) == MAX_PENDING
