package bench

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

// The chart is written by hand as SVG: two small panels of lines and dots
// need no plotting library, and the file opens in any browser.

const (
	chartW, chartH = 720, 520
	padL, padR     = 70, 30
	panelH         = 190
	panelTop1      = 50
	panelTop2      = 300
)

// WriteSVG draws the sweep as two panels over the target rate: the
// delivered rate (with the line where it equals the target) and the
// delivery p99 (with the 100 ms line of BestP99), so that where Herald
// stops keeping up shows at a glance.
func (r *SweepResult) WriteSVG(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", chartW, chartH)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="15">herald bench sweep: %d streams, best rate %s/s (p99 &lt; %d ms, nothing lost)</text>`+"\n",
		padL, r.Conns, num(r.Best), BestP99.Milliseconds())
	maxX := 0.0
	maxRate, maxP99 := 0.0, float64(BestP99.Milliseconds())
	var xs, rates, p99s []float64
	for _, s := range r.Steps {
		delivered := 0.0
		if s.Seconds > 0 {
			delivered = float64(s.Received) / s.Seconds
		}
		xs, rates, p99s = append(xs, s.Rate), append(rates, delivered), append(p99s, s.Delivery.P99)
		maxX = math.Max(maxX, s.Rate)
		maxRate = math.Max(maxRate, math.Max(delivered, s.Rate))
		maxP99 = math.Max(maxP99, s.Delivery.P99)
	}
	if maxX == 0 {
		maxX, maxRate = 1, 1
	}
	top := panel{b: &b, top: panelTop1, maxX: maxX, maxY: maxRate * 1.05, title: "delivered per second", unit: "/s"}
	top.frame()
	top.line([]float64{0, maxX}, []float64{0, maxX}, "#999", "4 4")
	top.line(xs, rates, "#1f77b4", "")
	bottom := panel{b: &b, top: panelTop2, maxX: maxX, maxY: maxP99 * 1.1, title: "delivery p99", unit: " ms"}
	bottom.frame()
	lim := float64(BestP99.Milliseconds())
	bottom.line([]float64{0, maxX}, []float64{lim, lim}, "#d62728", "4 4")
	bottom.line(xs, p99s, "#ff7f0e", "")
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">target rate (notifications per second)</text>`+"\n",
		padL+(chartW-padL-padR)/2, chartH-8)
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// panel is one plot area of the chart, x from 0 to maxX, y from 0 to maxY.
type panel struct {
	b          *strings.Builder
	top        int
	maxX, maxY float64
	title      string
	unit       string
}

func (p *panel) px(x float64) float64 {
	return padL + x/p.maxX*float64(chartW-padL-padR)
}

func (p *panel) py(y float64) float64 {
	return float64(p.top+panelH) - y/p.maxY*panelH
}

// frame draws the axes, four grid lines with their values and the title.
func (p *panel) frame() {
	fmt.Fprintf(p.b, `<text x="%d" y="%d" font-weight="bold">%s</text>`+"\n", padL, p.top-8, html.EscapeString(p.title))
	for i := 0; i <= 4; i++ {
		y := p.maxY * float64(i) / 4
		fmt.Fprintf(p.b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#eee"/>`+"\n", padL, chartW-padR, p.py(y), p.py(y))
		fmt.Fprintf(p.b, `<text x="%d" y="%.1f" text-anchor="end">%s%s</text>`+"\n", padL-6, p.py(y)+4, num(y), p.unit)
		x := p.maxX * float64(i) / 4
		fmt.Fprintf(p.b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", p.px(x), p.top+panelH+16, num(x))
	}
	fmt.Fprintf(p.b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="black"/>`+"\n", padL, chartW-padR, p.top+panelH, p.top+panelH)
	fmt.Fprintf(p.b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="black"/>`+"\n", padL, padL, p.top, p.top+panelH)
}

// line draws a polyline through (xs[i], ys[i]), with dots unless dashed.
func (p *panel) line(xs, ys []float64, color, dash string) {
	pts := make([]string, len(xs))
	for i := range xs {
		pts[i] = fmt.Sprintf("%.1f,%.1f", p.px(xs[i]), p.py(math.Min(ys[i], p.maxY)))
	}
	extra := ""
	if dash != "" {
		extra = fmt.Sprintf(` stroke-dasharray="%s"`, dash)
	}
	fmt.Fprintf(p.b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>`+"\n", strings.Join(pts, " "), color, extra)
	if dash == "" {
		for i := range xs {
			fmt.Fprintf(p.b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`+"\n", p.px(xs[i]), p.py(math.Min(ys[i], p.maxY)), color)
		}
	}
}

// num formats v compactly: 12k, 1.5k, 250, 0.5.
func num(v float64) string {
	switch {
	case v >= 10000:
		return fmt.Sprintf("%.0fk", v/1000)
	case v >= 1000:
		return fmt.Sprintf("%.1fk", v/1000)
	case v >= 10 || v == 0:
		return fmt.Sprintf("%.0f", v)
	default:
		return fmt.Sprintf("%.1f", v)
	}
}
