//! The geometry of the inline SVG charts: this module turns numbers into
//! pixel positions (whole pixels, by exact decimal arithmetic); the templates
//! (`templates/charts.html`) draw them, and every chart's numbers are also
//! given in a table beside it.

use rust_decimal::Decimal;

use crate::format;
use crate::Lang;

/// The drawing's width in SVG units.
pub const WIDTH: i64 = 640;
const LABEL_W: i64 = 200;
const BAR_MAX: i64 = 300;
const ROW_H: i64 = 28;

/// One bar.
#[derive(Debug, Clone)]
pub struct Bar {
    /// What it is (a member, a payee), shortened to fit.
    pub label: String,
    /// The amount as the language writes it.
    pub value: String,
    /// Its top edge.
    pub y: i64,
    /// The label's and value's text baseline.
    pub text_y: i64,
    /// Its length.
    pub width: i64,
    /// Where the value's text starts.
    pub value_x: i64,
}

/// A horizontal bar chart of amounts.
#[derive(Debug, Clone)]
pub struct BarChart {
    /// The bars, largest first.
    pub bars: Vec<Bar>,
    /// The drawing's height.
    pub height: i64,
    /// Where the bars start.
    pub bar_x: i64,
    /// The drawing's width.
    pub width: i64,
}

fn scale(v: Decimal, max: Decimal, span: i64) -> i64 {
    if max <= Decimal::ZERO || v <= Decimal::ZERO {
        return 0;
    }
    let px = (v * Decimal::from(span) / max).round();
    i64::try_from(px).unwrap_or(span).clamp(0, span)
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

impl BarChart {
    /// Bars of `rows` (label, amount), in the order given.
    pub fn new(lang: Lang, rows: &[(String, Decimal)]) -> BarChart {
        let max = rows.iter().map(|r| r.1).max().unwrap_or(Decimal::ZERO);
        let bars = rows
            .iter()
            .zip(0i64..)
            .map(|((label, v), i)| {
                let width = scale(*v, max, BAR_MAX);
                Bar {
                    label: shorten(label, 26),
                    value: format::euro(lang, *v),
                    y: i * ROW_H + 4,
                    text_y: i * ROW_H + 20,
                    width,
                    value_x: LABEL_W + width + 8,
                }
            })
            .collect();
        BarChart { bars, height: (rows.len() as i64) * ROW_H + 8, bar_x: LABEL_W, width: WIDTH }
    }
}

/// A point of a line chart.
#[derive(Debug, Clone)]
pub struct Point {
    /// Its position.
    pub x: i64,
    /// Its position (down is less).
    pub y: i64,
    /// What it says on hover: the date and the amount.
    pub label: String,
}

/// An axis label.
#[derive(Debug, Clone)]
pub struct Tick {
    /// Its position.
    pub at: i64,
    /// Its text.
    pub text: String,
}

/// A line over time (a balance).
#[derive(Debug, Clone)]
pub struct LineChart {
    /// The points, in time order.
    pub points: Vec<Point>,
    /// `x,y x,y …` for the polyline.
    pub polyline: String,
    /// The amounts on the left.
    pub y_ticks: Vec<Tick>,
    /// The first and last dates below.
    pub x_ticks: Vec<Tick>,
    /// The drawing's height.
    pub height: i64,
    /// The drawing's width.
    pub width: i64,
    /// The plot's left edge.
    pub left: i64,
    /// The plot's bottom edge.
    pub bottom: i64,
    /// The plot's right edge.
    pub right: i64,
}

impl LineChart {
    /// A line through `points` (time in seconds, amount, date text), in time order.
    pub fn new(lang: Lang, points: &[(i64, Decimal, String)]) -> LineChart {
        let (left, right, top, bottom) = (110i64, WIDTH - 20, 16i64, 200i64);
        let lo = points.iter().map(|p| p.1).min().unwrap_or(Decimal::ZERO).min(Decimal::ZERO);
        let hi = points.iter().map(|p| p.1).max().unwrap_or(Decimal::ZERO).max(lo + Decimal::ONE);
        let t0 = points.first().map(|p| p.0).unwrap_or(0);
        let t1 = points.last().map(|p| p.0).unwrap_or(0);
        let span_t = (t1 - t0).max(1);
        let y_of = |v: Decimal| bottom - scale(v - lo, hi - lo, bottom - top);
        let pts: Vec<Point> = points
            .iter()
            .map(|(t, v, day)| {
                let x = if points.len() == 1 {
                    (left + right) / 2
                } else {
                    left + i64::try_from(i128::from(t - t0) * i128::from(right - left) / i128::from(span_t))
                        .unwrap_or(0)
                };
                Point { x, y: y_of(*v), label: format!("{day}: {}", format::euro(lang, *v)) }
            })
            .collect();
        let polyline = pts.iter().map(|p| format!("{},{}", p.x, p.y)).collect::<Vec<_>>().join(" ");
        let y_ticks = vec![
            Tick { at: y_of(hi), text: format::euro(lang, hi) },
            Tick { at: y_of(lo), text: format::euro(lang, lo) },
        ];
        let mut x_ticks = Vec::new();
        if let Some(first) = points.first() {
            x_ticks.push(Tick { at: pts[0].x, text: first.2.clone() });
        }
        if points.len() > 1 {
            if let (Some(last), Some(p)) = (points.last(), pts.last()) {
                x_ticks.push(Tick { at: p.x, text: last.2.clone() });
            }
        }
        LineChart { points: pts, polyline, y_ticks, x_ticks, height: bottom + 30, width: WIDTH, left, bottom, right }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest() {
        let c = BarChart::new(Lang::Nl, &[("a".into(), Decimal::from(200)), ("b".into(), Decimal::from(50))]);
        assert_eq!(c.bars[0].width, BAR_MAX);
        assert_eq!(c.bars[1].width, BAR_MAX / 4);
        assert_eq!(c.bars[1].value, "€ 50,00");
        assert!(c.bars[1].y > c.bars[0].y);
    }

    #[test]
    fn a_line_rises_with_the_balance() {
        let c =
            LineChart::new(Lang::En, &[(0, Decimal::ZERO, "1 Jan".into()), (100, Decimal::from(1000), "2 Jan".into())]);
        assert_eq!(c.points.len(), 2);
        assert!(c.points[1].y < c.points[0].y, "up is more");
        assert!(c.points[1].x > c.points[0].x);
        assert_eq!(c.polyline, format!("{},{} {},{}", c.points[0].x, c.points[0].y, c.points[1].x, c.points[1].y));
    }
}
