package executor_test

import (
	"reflect"
	"strings"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/executor"
)

func TestLoadStageEnv(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		want    executor.StageEnv
		wantErr []string // substrings of the joined error, nil for none
	}{
		{
			name: "Runner values are parsed",
			environ: []string{
				"HOME=/home/runner",
				"TMPDIR=/tmp/custom-executor1",
				"BUILD_FAILURE_EXIT_CODE=1",
				"SYSTEM_FAILURE_EXIT_CODE=2",
				"BUILD_EXIT_CODE_FILE=/tmp/custom-executor1/build_exit_code",
				"JOB_RESPONSE_FILE=/tmp/custom-executor1/response.json",
			},
			want: executor.StageEnv{
				TmpDir:                "/tmp/custom-executor1",
				BuildFailureExitCode:  1,
				SystemFailureExitCode: 2,
				BuildExitCodeFile:     "/tmp/custom-executor1/build_exit_code",
				JobResponseFile:       "/tmp/custom-executor1/response.json",
			},
		},
		{
			name:    "Missing exit codes default to 1 and 2",
			environ: []string{"TMPDIR=/tmp/x", "BUILD_FAILURE_EXIT_CODE="},
			want:    executor.StageEnv{TmpDir: "/tmp/x", BuildFailureExitCode: 1, SystemFailureExitCode: 2},
		},
		{
			name:    "Other exit codes are taken as given",
			environ: []string{"BUILD_FAILURE_EXIT_CODE=17", "SYSTEM_FAILURE_EXIT_CODE=18"},
			want:    executor.StageEnv{BuildFailureExitCode: 17, SystemFailureExitCode: 18},
		},
		{
			name: "Job variables lose their prefix and the last value wins",
			environ: []string{
				"CUSTOM_ENV_CI_JOB_TOKEN=abc=def",
				"CUSTOM_ENV_CI_PIPELINE_ID=1",
				"CUSTOM_ENV_CI_PIPELINE_ID=2",
				"CUSTOM_ENV_EMPTY=",
				"CUSTOM_ENV_=ignored",
				"NOT_CUSTOM_ENV_X=ignored",
				"malformed",
			},
			want: executor.StageEnv{
				BuildFailureExitCode:  1,
				SystemFailureExitCode: 2,
				JobVars:               map[string]string{"CI_JOB_TOKEN": "abc=def", "CI_PIPELINE_ID": "2", "EMPTY": ""},
			},
		},
		{
			name:    "Invalid exit codes are reported together and fall back to the defaults",
			environ: []string{"BUILD_FAILURE_EXIT_CODE=one", "SYSTEM_FAILURE_EXIT_CODE=300"},
			want:    executor.StageEnv{BuildFailureExitCode: 1, SystemFailureExitCode: 2},
			wantErr: []string{`BUILD_FAILURE_EXIT_CODE="one" is not an integer`, "SYSTEM_FAILURE_EXIT_CODE=300 is outside"},
		},
		{
			name:    "Zero is not a failure code",
			environ: []string{"SYSTEM_FAILURE_EXIT_CODE=0"},
			want:    executor.StageEnv{BuildFailureExitCode: 1, SystemFailureExitCode: 2},
			wantErr: []string{"SYSTEM_FAILURE_EXIT_CODE=0 is outside"},
		},
		{
			name:    "Equal exit codes are refused",
			environ: []string{"BUILD_FAILURE_EXIT_CODE=2"},
			want:    executor.StageEnv{BuildFailureExitCode: 2, SystemFailureExitCode: 2},
			wantErr: []string{"are both 2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := executor.LoadStageEnv(tt.environ)
			checkErrContains(t, err, tt.wantErr)
			if got == nil {
				t.Fatal("LoadStageEnv returned nil StageEnv")
			}
			if tt.want.JobVars == nil {
				tt.want.JobVars = map[string]string{}
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("LoadStageEnv() = %+v, want %+v", *got, tt.want)
			}
			for k, v := range tt.want.JobVars {
				if got.JobVar(k) != v {
					t.Errorf("JobVar(%q) = %q, want %q", k, got.JobVar(k), v)
				}
			}
		})
	}
}

func TestStageEnvJobVarMissing(t *testing.T) {
	env, err := executor.LoadStageEnv(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := env.JobVar("CI_JOB_ID"); got != "" {
		t.Errorf("JobVar of a missing variable = %q, want empty", got)
	}
}

func checkErrContains(t *testing.T, err error, want []string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want one containing %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
}
