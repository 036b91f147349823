package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// printTable prints one row per board size and operation.
func printTable(w io.Writer, results []result, cfg config) {
	fmt.Fprintf(w, "%9s  %-50s %8s %8s %6s %15s %15s\n", "N", "operation", "p50 ms", "p99 ms", "RCU", "WCU (DynamoDB)", "WCU (Local)")
	for _, r := range results {
		name := r.name
		if r.note != "" {
			name += " " + r.note
		}
		fmt.Fprintf(w, "%9s  %-50s %8s %8s %6s %15s %15s\n", thousands(r.n), name, ms(r.p50), ms(r.p99),
			num(r.read), num(r.write), num(r.localWrite))
	}
	fmt.Fprintf(w, "\nruns per size: %d of each read, %d submits", cfg.reads, cfg.submits)
	var fewer []string
	for _, r := range results {
		if r.name == opCounted && r.runs < cfg.reads {
			fewer = append(fewer, fmt.Sprintf("%d at N=%s", r.runs, thousands(r.n)))
		}
	}
	if len(fewer) > 0 {
		fmt.Fprintf(w, "; count-based rank only %s (it reads the whole board: %s of it per size)",
			strings.Join(fewer, ", "), cfg.countedBudget)
	}
	fmt.Fprintf(w, ";\neach after a tenth as many unmeasured calls (at least 1).\n")
	fmt.Fprintln(w, "RCU and WCU are medians per call; RCU as DynamoDB Local reported it, WCU (DynamoDB) priced from item sizes.")
	fmt.Fprintln(w, "Latencies leave out the bench's own look-ups for pricing writes.")
}

// readCheck compares, for one call, the read units DynamoDB Local reported with those
// computed from the sizes of the items read.
type readCheck struct {
	n               int
	name            string
	local, computed float64
	countDiff       bool
	latency         time.Duration
}

// checkReads runs each operation once, unmeasured, with the meter computing read units.
func checkReads(ctx context.Context, n int, ops []operation) ([]readCheck, error) {
	var out []readCheck
	for _, op := range ops {
		s, err := call(ctx, true, op.do)
		if err != nil {
			return nil, fmt.Errorf("check %s: %w", op.name, err)
		}
		out = append(out, readCheck{n: n, name: op.name, local: s.read, computed: s.checkRead, countDiff: s.countDiff, latency: s.latency})
	}
	return out, nil
}

func printChecks(w io.Writer, checks []readCheck) {
	fmt.Fprintln(w, "read units of one call, as DynamoDB Local reported them and as computed from the items' sizes:")
	fmt.Fprintf(w, "%9s  %-20s %8s %9s\n", "N", "operation", "Local", "computed")
	agree := 0
	for _, c := range checks {
		verdict := "agree"
		if d := c.local - c.computed; d != 0 {
			verdict = fmt.Sprintf("differ by %s (%.2f%%)", num(d), 100*d/c.computed)
		} else {
			agree++
		}
		if c.countDiff {
			verdict += " (a COUNT page read again held a different number of items)"
		}
		fmt.Fprintf(w, "%9s  %-20s %8s %9s  %s\n", thousands(c.n), c.name, num(c.local), num(c.computed), verdict)
	}
	fmt.Fprintf(w, "%d of %d agree.\n", agree, len(checks))
}

// printTargets evaluates the targets at the smallest and largest sizes run (1,000 and
// 100,000 by default), and compares the count-based rank with the tree's at each size.
func printTargets(w io.Writer, results []result, sizes []int) {
	small, large := sizes[0], sizes[len(sizes)-1]
	get := func(n int, op string) result {
		for _, r := range results {
			if r.n == n && r.name == op {
				return r
			}
		}
		return result{}
	}
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	fmt.Fprintln(w, "targets:")
	for _, op := range []string{opRank, opAround} {
		r, base := get(large, op), get(small, op)
		fmt.Fprintf(w, "  %-20s RCU at N=%s: %s (at most 20): %s\n", op, thousands(large), num(r.read), verdict(r.read <= 20))
		ratio := float64(r.p50) / float64(base.p50)
		fmt.Fprintf(w, "  %-20s p50 at N=%s / N=%s: %s / %s ms = %.2fx (at most 2x): %s\n", op, thousands(large), thousands(small),
			ms(r.p50), ms(base.p50), ratio, verdict(ratio <= 2))
	}
	for _, t := range []struct {
		op, unit string
		limit    float64
		value    func(result) float64
	}{
		{opTop, "RCU", 5, func(r result) float64 { return r.read }},
		{opSubmit, "WCU", 25, func(r result) float64 { return r.write }},
	} {
		worst, at, largest := -1.0, 0, 0.0
		for _, n := range sizes {
			r := get(n, t.op)
			if v := t.value(r); v > worst {
				worst, at = v, n
			}
			largest = max(largest, r.maxWrite)
		}
		extra := ""
		if t.op == opSubmit {
			extra = fmt.Sprintf("; the largest single submit: %s WCU", num(largest))
		}
		fmt.Fprintf(w, "  %-20s %s, highest median over all N: %s at N=%s (at most %s): %s%s\n", t.op, t.unit, num(worst),
			thousands(at), num(t.limit), verdict(worst <= t.limit), extra)
	}
	fmt.Fprintln(w, "\ncount-based rank vs the tree, RCU for the last-ranked team:")
	for _, n := range sizes {
		counted, tree := get(n, opCounted), get(n, opRank)
		fmt.Fprintf(w, "  N=%-8s counted %6s   tree %4s   %.0fx\n", thousands(n), num(counted.read), num(tree.read), counted.read/tree.read)
	}
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64)
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// thousands formats n with commas: 100,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}
