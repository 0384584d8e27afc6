package main

import (
	"fmt"
	"io"
	"strings"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/bench/internal/figures"
)

// curlCPUText shows, for every client of the comparison with curl, its
// speed and the CPU time its processes used, in medians: where a wall-time
// ratio comes from.
func curlCPUText(w io.Writer, r *figures.Result) {
	type row struct {
		name                       string
		mbs, user, sys             float64
		haveMBs, haveUser, haveSys bool
	}
	var order []string
	rows := map[string]*row{}
	for _, f := range r.Figures {
		if f.Section != figures.SectionCurlCPU || len(f.Values) == 0 {
			continue
		}
		i := strings.LastIndexByte(f.Key, '.')
		client, what := f.Key[:i], f.Key[i+1:]
		if rows[client] == nil {
			rows[client] = &row{name: f.Name}
			order = append(order, client)
		}
		switch x := rows[client]; what {
		case "mbs":
			x.mbs, x.haveMBs = f.Median(), true
		case "user":
			x.user, x.haveUser = f.Median(), true
		case "sys":
			x.sys, x.haveSys = f.Median(), true
		}
	}
	if len(order) == 0 {
		return
	}
	fmt.Fprint(w, "\nThe same runs, each client's speed and the CPU time of its processes (medians):\n\n"+
		"| client | MB/s | user s | system s |\n|---|---:|---:|---:|\n")
	for _, client := range order {
		x := rows[client]
		if x.haveMBs && x.haveUser && x.haveSys {
			fmt.Fprintf(w, "| %s | %.0f | %.2f | %.2f |\n", x.name, x.mbs, x.user, x.sys)
		}
	}
}
