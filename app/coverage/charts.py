"""Geometry of the server-rendered SVG trend charts (one small chart per service, with its target)."""
import math
from dataclasses import dataclass

from markupsafe import Markup

WIDTH, HEIGHT = 320, 150
LEFT, RIGHT, TOP, BOTTOM = 48, 10, 12, 28  # room for 14-unit axis labels


@dataclass
class Chart:
    service: object
    points: list[tuple[float, float, float | None]]  # x, y, share (None: no households that month)
    segments: list[str]          # polyline point lists; a month without households breaks the line
    grid: list[tuple[float, float]]  # y, share
    target_y: float | None
    target: float | None
    labels: list[tuple[float, str]]  # x, month label
    first: float | None
    last: float | None
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT
    bottom_y: int = HEIGHT - BOTTOM

    @property
    def marks(self) -> Markup:
        """The line and its dots as SVG, written here: numbers only, so nothing to escape, and a
        trend of ten charts no longer makes ~600 escaping calls in the template."""
        lines = "".join(f'<polyline points="{seg}" class="line" fill="none"/>' for seg in self.segments)
        dots = "".join(f'<circle cx="{px}" cy="{py}" r="2.5" class="dot"/>' for px, py, _v in self.points)
        return Markup(lines + dots)


def service_chart(service, series, month_label) -> Chart:
    shares = [m.row.services[service.code].share for m in series]
    target = next((m.row.services[service.code].target_share for m in series), None)
    top = max([s for s in shares if s is not None] + ([target] if target is not None else []) + [0.0])
    # Round the scale up to a tidy 10 % step so a 12 % line is not drawn flat against 100 %.
    ymax = min(1.0, max(0.1, math.ceil(top * 1.15 * 10) / 10))
    n = len(series)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i):
        return round(LEFT + (plot_w * i / (n - 1) if n > 1 else plot_w / 2), 1)

    def y(v):
        return round(TOP + plot_h * (1 - min(v, ymax) / ymax), 1)

    points, segments, current = [], [], []
    for i, share in enumerate(shares):
        if share is None:
            if current:
                segments.append(" ".join(current))
            current = []
            points.append((x(i), None, None))
            continue
        points.append((x(i), y(share), share))
        current.append(f"{x(i)},{y(share)}")
    if current:
        segments.append(" ".join(current))
    label_idx = sorted({0, n // 2, n - 1}) if n else []
    known = [s for s in shares if s is not None]
    return Chart(service=service, points=[p for p in points if p[1] is not None], segments=segments,
                 grid=[(y(v), v) for v in (0, ymax / 2, ymax)],
                 target_y=y(target) if target is not None and target <= ymax else None, target=target,
                 labels=[(x(i), month_label(series[i].year, series[i].month)) for i in label_idx],
                 first=known[0] if known else None, last=known[-1] if known else None)
