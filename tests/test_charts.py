"""The trend charts' geometry (app/coverage/charts.py): where each month's share is drawn on the small SVG
chart a phone shows, checked against the plot box the chart declares."""
from types import SimpleNamespace

import pytest

from app.coverage.charts import service_chart

SERVICE = SimpleNamespace(code="vneid", name="VNeID")


def _series(shares, target=None):
    return [SimpleNamespace(year=2026, month=m + 1,
                            row=SimpleNamespace(services={"vneid": SimpleNamespace(share=s, target_share=target)}))
            for m, s in enumerate(shares)]


def _label(year, month):
    return f"{month:02d}/{year}"


def test_months_spread_from_the_left_edge_to_the_right_and_shares_from_the_bottom_up():
    shares = [0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3]
    chart = service_chart(SERVICE, _series(shares), _label)
    xs = [x for x, _y, _s in chart.points]
    assert xs[0] == chart.left and xs[-1] == chart.right_edge
    steps = {round(b - a, 1) for a, b in zip(xs, xs[1:])}
    assert max(steps) - min(steps) <= 0.2  # evenly spaced, to the rounding of one decimal
    # The scale: 115% of the highest share, rounded up to a tidy 10% (0.3 -> 0.345 -> 40%).
    assert [share for _y, share in chart.grid] == [0, 0.2, 0.4]
    bottom, middle, top = (y for y, _s in chart.grid)
    assert bottom == chart.bottom_y and top == 12 and middle == (top + bottom) / 2
    ys = [y for _x, y, _s in chart.points]
    assert ys[0] == chart.bottom_y and ys == sorted(ys, reverse=True)  # rising shares, rising line
    assert ys[4] == middle  # 20% on the 20% line
    assert (chart.first, chart.last) == (0.0, 0.3)
    assert chart.labels == [(xs[0], "01/2026"), (xs[3], "04/2026"), (xs[6], "07/2026")]


def test_a_month_without_households_breaks_the_line_and_has_no_dot():
    chart = service_chart(SERVICE, _series([None, 0.1, 0.2, None, 0.3, 0.3]), _label)
    assert len(chart.segments) == 2
    assert [len(seg.split(" ")) for seg in chart.segments] == [2, 2]
    assert [s for _x, _y, s in chart.points] == [0.1, 0.2, 0.3, 0.3]
    assert chart.marks.count("<circle") == 4 and chart.marks.count("<polyline") == 2
    assert (chart.first, chart.last) == (0.1, 0.3)


def test_the_target_is_drawn_at_its_share_and_widens_the_scale():
    chart = service_chart(SERVICE, _series([0.1, 0.12], target=0.6), _label)
    assert [share for _y, share in chart.grid][-1] == pytest.approx(0.7)  # 0.6 × 1.15 -> 70%
    bottom, top = chart.grid[0][0], chart.grid[-1][0]
    assert chart.target_y == pytest.approx(bottom - (bottom - top) * 0.6 / 0.7, abs=0.1)
    # A target of 100% is the top of a scale that stops at 100%.
    full = service_chart(SERVICE, _series([0.9, 0.95], target=1.0), _label)
    assert full.grid[-1][1] == 1.0 and full.target_y == full.grid[-1][0]


def test_a_single_month_is_drawn_in_the_middle_and_a_chart_with_nothing_says_so():
    one = service_chart(SERVICE, _series([0.5]), _label)
    assert one.points[0][0] == (one.left + one.right_edge) / 2
    empty = service_chart(SERVICE, _series([None, None]), _label)
    assert empty.points == [] and empty.segments == [] and empty.first is None and empty.last is None
    assert [share for _y, share in empty.grid] == [0, 0.05, 0.1]  # the smallest scale, 10%
