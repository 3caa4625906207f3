"""A library's exception as a clause of our one-line errors."""

from electra_tasks.errors import reason


def test_reason_is_the_first_line_cut_or_the_type_when_the_message_is_empty():
    assert reason(ValueError("bad value\nTraceback details")) == "bad value"
    assert reason(OSError("x" * 300)) == "x" * 160 and reason(OSError("x" * 300), None) == "x" * 300
    assert reason(ConnectionError("refused"), typed=True) == "ConnectionError: refused"
    # an empty message (str(exc).splitlines()[0] raised IndexError: a traceback instead of the line)
    assert reason(OSError()) == "OSError" and reason(KeyboardInterrupt(), typed=True) == "KeyboardInterrupt"
