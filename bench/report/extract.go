package main

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strconv"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/bench/internal/figures"
)

// extractArgs run artifacts/extract's two benchmarks on the same
// 10,000-file zip: ours and Info-ZIP's unzip (skipped without it).
var extractArgs = []string{"test", "-run", "^$", "-bench", "^Benchmark(ExtractZip10k|Unzip10k)$",
	"-count", "1", "./artifacts/extract/"}

// benchLine is a line of go test -bench output with the files/s metric.
var benchLine = regexp.MustCompile(`(?m)^Benchmark(ExtractZip10k|Unzip10k)(?:-\d+)?\s+\d+\s+[0-9.]+ ns/op\s+([0-9.]+) files/s`)

var (
	extractOurs = figures.Figure{Key: "extract.ours", Section: figures.SectionExtract, Unit: "files/s",
		Name: "extract a 10,000-file zip (5 extractions per run): ours"}
	extractUnzip = figures.Figure{Key: "extract.unzip", Section: figures.SectionExtract, Unit: "files/s",
		Name: "extract a 10,000-file zip (5 extractions per run): `unzip -q -o`"}
	extractRatio = figures.Figure{Key: "extract.ratio", Section: figures.SectionExtract, Unit: "×", Digits: 2,
		Name: "extract a 10,000-file zip: ours ÷ unzip (speed)", Target: figures.AtLeast(1.0, "≥ 1.0×")}
)

// extractBench runs the extraction benchmarks once, in env, with extra
// arguments for go test (-benchtime).
func extractBench(ctx context.Context, env, extra []string) figures.Result {
	var res figures.Result
	cmd := exec.CommandContext(ctx, "go", append(slices.Clone(extractArgs), extra...)...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		res.Errors = append(res.Errors, fmt.Sprintf("go test -bench ./artifacts/extract/: %v\n%s", err, out))
		return res
	}
	rates := map[string]float64{}
	for _, m := range benchLine.FindAllStringSubmatch(string(out), -1) {
		rates[m[1]], _ = strconv.ParseFloat(m[2], 64)
	}
	ours, ok := rates["ExtractZip10k"]
	if !ok {
		res.Errors = append(res.Errors, "go test -bench ./artifacts/extract/ printed no BenchmarkExtractZip10k line:\n"+string(out))
		return res
	}
	res.Add(extractOurs, ours)
	unzip, ok := rates["Unzip10k"]
	if !ok {
		why := "skipped: unzip is not installed (apt-get install -y unzip)"
		res.Skip(extractUnzip, why)
		res.Skip(extractRatio, why)
		return res
	}
	res.Add(extractUnzip, unzip)
	res.Add(extractRatio, ours/unzip)
	return res
}
