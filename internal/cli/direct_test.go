package cli

import (
	"context"
	"io"
	"os"
	"reflect"
	"testing"

	"github.com/sirupsen/logrus"
	ucli "github.com/urfave/cli/v2"
)

// seen is what a stage's action was given.
type seen struct {
	ran      bool
	settings Settings
	args     []string
	level    logrus.Level
}

// probeStage is a stage command like the four real ones, recording what
// its action is given instead of running anything.
func probeStage(got *seen) *ucli.Command {
	s := streams{stdout: io.Discard, stderr: io.Discard, environ: os.Environ}
	return stageCommand("probe", "", "", s, func(_ context.Context, o StageOptions, args []string) error {
		*got = seen{ran: true, settings: o.Settings, args: args, level: logrus.GetLevel()}
		return nil
	})
}

// viaApp runs args through the whole urfave/cli app, with the probe stage
// added to its commands.
func viaApp(t *testing.T, args []string) seen {
	t.Helper()
	var got seen
	logrus.SetLevel(logrus.PanicLevel) // each path must set the level itself
	app := newApp(io.Discard, io.Discard)
	app.Commands = append(app.Commands, probeStage(&got))
	_ = app.RunContext(t.Context(), args)
	return got
}

func viaDirect(t *testing.T, args []string) (seen, bool) {
	t.Helper()
	var got seen
	logrus.SetLevel(logrus.PanicLevel)
	ran, _ := runDirectly(t.Context(), probeStage(&got), args, io.Discard, io.Discard)
	return got, ran
}

func TestAStageRunDirectlyIsGivenWhatTheWholeAppGivesIt(t *testing.T) {
	t.Cleanup(func() { setupLogging(os.Stderr, false) })
	every := map[string]string{
		envAPITokenFile: "/etc/token", envStrict: "true", envCacheDir: "/var/cache/pa",
		envCacheTTL: "1m", envResolveTimeout: "7s", envKillGrace: "90s", "PIPELINE_ARTIFACTS_DEBUG": "1",
	}
	empty := map[string]string{}
	for k := range every {
		empty[k] = ""
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"the runner's run stage with no settings", nil, []string{"pa", "probe", "/builds/script.", "build_script"}},
		{"every setting from the environment", every, []string{"pa", "probe", "/builds/script.", "build_script"}},
		{"settings set to empty values", empty, []string{"pa", "probe"}},
		{"debug spelt as a word", map[string]string{"PIPELINE_ARTIFACTS_DEBUG": "TRUE", envStrict: "f"}, []string{"pa", "probe", "x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			want := viaApp(t, tc.args)
			got, ran := viaDirect(t, tc.args)
			if !ran || !want.ran {
				t.Fatalf("ran directly %v, through the app %v; want both", ran, want.ran)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("directly:\n%+v\nthrough the app:\n%+v", got, want)
			}
		})
	}
}

func TestAStageIsLeftToTheWholeAppWhenItCouldDoAnythingElse(t *testing.T) {
	t.Cleanup(func() { setupLogging(os.Stderr, false) })
	tests := []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"a flag", nil, []string{"pa", "probe", "--strict", "script"}},
		{"a flag after the arguments", nil, []string{"pa", "probe", "script", "--strict"}},
		{"arguments after --", nil, []string{"pa", "probe", "--", "inner"}},
		{"a help request", nil, []string{"pa", "probe", "-h"}},
		{"the help subcommand", nil, []string{"pa", "probe", "help"}},
		{"its short name", nil, []string{"pa", "probe", "h"}},
		{"a duration that does not parse", map[string]string{envCacheTTL: "soon"}, []string{"pa", "probe"}},
		{"a boolean that does not parse", map[string]string{envStrict: "maybe"}, []string{"pa", "probe"}},
		{"a debug setting that does not parse", map[string]string{"PIPELINE_ARTIFACTS_DEBUG": "loud"}, []string{"pa", "probe"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			if got, ran := viaDirect(t, tc.args); ran || got.ran {
				t.Errorf("ran directly (%+v); want it left to the app", got)
			}
		})
	}
}

func TestOnlyTheFourStagesRunDirectly(t *testing.T) {
	want := []string{"cleanup", "config", "prepare", "run"}
	for _, name := range want {
		cmd := stageByName(name)
		if cmd == nil {
			t.Errorf("%q does not run directly", name)
			continue
		}
		if c := cmd(streams{}); c.Name != name {
			t.Errorf("%q builds the %q command", name, c.Name)
		}
	}
	for _, name := range []string{"", "var-name", "download", "list", "env", "serve", "doctor", "version", "help", "Run"} {
		if stageByName(name) != nil {
			t.Errorf("%q runs directly; only %v do", name, want)
		}
	}
	if ran, _ := runStageDirectly(context.Background(), []string{"pa", "var-name", "x"}, io.Discard, io.Discard); ran {
		t.Error("var-name ran directly")
	}
}
