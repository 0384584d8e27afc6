package hooks

import (
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var shellName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func TestVarName(t *testing.T) {
	tests := []struct {
		name, job, want string
	}{
		{"a plain name is upper-cased", "build", "BUILD"},
		{"a dash becomes an underscore", "deploy-prod", "DEPLOY_PROD"},
		{"a parallel member keeps its index and total", "test 1/3", "TEST_1_3"},
		{"a matrix member keeps its values", "build: [linux, amd64]", "BUILD_LINUX_AMD64"},
		{"a run of symbols becomes one underscore", "a -- b", "A_B"},
		{"underscores are part of the run they are in", "a__b", "A_B"},
		{"symbols at both ends are stripped", "  .build!  ", "BUILD"},
		{"a leading digit is guarded", "1st job", "_1ST_JOB"},
		{"a leading digit after stripped symbols is guarded", "--2fa", "_2FA"},
		{"an already valid name keeps its digits", "job2", "JOB2"},
		{"a name of symbols only maps to an underscore", "---", "_"},
		{"an empty name maps to an underscore", "", "_"},
		{"non-ASCII letters are outside A-Z", "café", "CAF"},
		{"a non-ASCII letter inside a word splits it", "naïve", "NA_VE"},
		{"German sharp s is not upper-cased to SS", "straße", "STRA_E"},
		{"Turkish dotless i is not upper-cased to I", "ıi", "I"},
		{"the long s is not upper-cased to S", "ſx", "X"},
		{"the Kelvin sign is not a K", "\u212a", "_"},
		{"invalid UTF-8 is outside A-Z", "a\xffb", "A_B"},
		{"a rspec-style group name keeps its parts", "rspec:test: [ruby, ubuntu]", "RSPEC_TEST_RUBY_UBUNTU"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := VarName(tt.job)
			if got != tt.want {
				t.Errorf("VarName(%q) = %q, want %q", tt.job, got, tt.want)
			}
			if !shellName.MatchString(got) {
				t.Errorf("VarName(%q) = %q is not a shell name", tt.job, got)
			}
		})
	}
}

func TestVarNameIsAlwaysAShellNameSuffix(t *testing.T) {
	for b := range 256 {
		for _, job := range []string{string(rune(b)), string([]byte{byte(b)}), "x" + string([]byte{byte(b)}) + "9"} {
			got := VarName(job)
			if !shellName.MatchString(got) || strings.Contains(got, "__") {
				t.Errorf("VarName(%q) = %q", job, got)
			}
		}
	}
}

func FuzzVarName(f *testing.F) {
	for _, s := range []string{"build", "test 1/3", "build: [linux, amd64]", "", "9", "ß"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, job string) {
		got := VarName(job)
		if !shellName.MatchString(got) {
			t.Errorf("VarName(%q) = %q is not a shell name", job, got)
		}
		if VarName(got) != got {
			t.Errorf("VarName(%q) = %q is not a fixed point", job, got)
		}
	})
}

func TestGroupName(t *testing.T) {
	tests := []struct {
		name, job, want string
	}{
		{"a parallel member's group is the name before the index", "test 1/3", "TEST"},
		{"the last parallel member is in the group", "test 10/10", "TEST"},
		{"parallel: 1 still forms a group", "test 1/1", "TEST"},
		{"a matrix member's group is the name before the values", "build: [linux, amd64]", "BUILD"},
		{"a group name with a colon keeps it as a separator", "rspec:test: [ruby, ubuntu]", "RSPEC_TEST"},
		{"matrix values containing the separator split at the first one", "x: [a: [b]]", "X"},
		{"a group name with spaces is mapped like any name", "unit test 2/4", "UNIT_TEST"},
		{"a plain job has no group", "build", ""},
		{"an index above the total is not a parallel member", "release 2024/25", ""},
		{"a zero index is not a parallel member", "test 0/3", ""},
		{"a signed index is not a parallel member", "test +1/3", ""},
		{"a missing total is not a parallel member", "test 1/", ""},
		{"an index without a base name is not a member", " 1/3", ""},
		{"a name without a space before the index is not a member", "test1/3", ""},
		{"a bracket without the colon is not a matrix", "build [linux]", ""},
		{"matrix values must end the name", "build: [linux] extra", ""},
		{"a matrix without a base name is not a member", ": [a]", ""},
		{"a base of symbols maps to an underscore", "-- 1/2", "_"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := GroupName(tt.job); got != tt.want {
				t.Errorf("GroupName(%q) = %q, want %q", tt.job, got, tt.want)
			}
		})
	}
}

func TestAssignVarNames(t *testing.T) {
	tests := []struct {
		name           string
		names          []string
		want           map[string]string
		wantCollisions [][]string
	}{
		{
			name:  "distinct names keep their plain suffix",
			names: []string{"build", "deploy-prod", "test 1/3"},
			want:  map[string]string{"build": "BUILD", "deploy-prod": "DEPLOY_PROD", "test 1/3": "TEST_1_3"},
		},
		{
			name:           "a parallel member and an underscored name collide and sort bytewise",
			names:          []string{"build_1_2", "build 1/2"},
			want:           map[string]string{"build 1/2": "BUILD_1_2", "build_1_2": "BUILD_1_2_2"},
			wantCollisions: [][]string{{"build 1/2", "build_1_2"}},
		},
		{
			name:           "three colliding names get _2 and _3 in bytewise order",
			names:          []string{"deploy-prod", "deploy prod", "Deploy.Prod"},
			want:           map[string]string{"Deploy.Prod": "DEPLOY_PROD", "deploy prod": "DEPLOY_PROD_2", "deploy-prod": "DEPLOY_PROD_3"},
			wantCollisions: [][]string{{"Deploy.Prod", "deploy prod", "deploy-prod"}},
		},
		{
			name:           "a generated suffix skips one a real job holds",
			names:          []string{"a", "A", "a 2"},
			want:           map[string]string{"A": "A", "a": "A_3", "a 2": "A_2"},
			wantCollisions: [][]string{{"A", "a"}},
		},
		{
			name:  "a generated suffix skips a real job that collides itself",
			names: []string{"a", "A", "a 2", "a-2"},
			want: map[string]string{
				"A": "A", "a": "A_3",
				"a 2": "A_2", "a-2": "A_2_2",
			},
			wantCollisions: [][]string{{"A", "a"}, {"a 2", "a-2"}},
		},
		{
			name:           "names of symbols only collide on the underscore",
			names:          []string{"---", "+++"},
			want:           map[string]string{"+++": "_", "---": "__2"},
			wantCollisions: [][]string{{"+++", "---"}},
		},
		{
			name:  "a repeated name counts once",
			names: []string{"build", "build"},
			want:  map[string]string{"build": "BUILD"},
		},
		{
			name: "no names give an empty map",
			want: map[string]string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, collisions := AssignVarNames(tt.names)
			if !maps.Equal(got, tt.want) {
				t.Errorf("assigned = %v, want %v", got, tt.want)
			}
			if !reflect.DeepEqual(collisions, tt.wantCollisions) {
				t.Errorf("collisions = %q, want %q", collisions, tt.wantCollisions)
			}
		})
	}
}

func TestAssignVarNamesGivesUniqueShellNamesWhateverTheOrder(t *testing.T) {
	names := []string{"a", "A", "a 2", "a-2", "a_3", "A 2 2", "a:2:2", "---", "_", "1", "_1", "1 2"}
	first, _ := AssignVarNames(names)
	for i := range 5 {
		shuffled := slices.Clone(names)
		slices.Reverse(shuffled)
		shuffled = append(shuffled[i:], shuffled[:i]...)
		got, _ := AssignVarNames(shuffled)
		if !maps.Equal(got, first) {
			t.Fatalf("order %q gave %v, want %v", shuffled, got, first)
		}
	}
	seen := make(map[string]string)
	for name, v := range first {
		if !shellName.MatchString(v) {
			t.Errorf("%q got %q, not a shell name", name, v)
		}
		if other, dup := seen[v]; dup {
			t.Errorf("%q and %q both got %q", name, other, v)
		}
		seen[v] = name
	}
}

func TestCollisionWarning(t *testing.T) {
	if got := CollisionWarning(nil); got != "" {
		t.Errorf("no collisions gave %q, want \"\"", got)
	}
	got := CollisionWarning([][]string{{"build 1/2", "build_1_2"}, {"a", "b\nc"}})
	for _, want := range []string{`"build 1/2", "build_1_2"`, `"a", "b\nc"`} {
		if !strings.Contains(got, want) {
			t.Errorf("warning %q does not name %s", got, want)
		}
	}
	if strings.Contains(got, "\n") {
		t.Errorf("warning %q is more than one line", got)
	}
}

func TestWriteVarNames(t *testing.T) {
	var b strings.Builder
	if err := WriteVarNames(&b, []string{"build", "test 1/3", "build"}); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "BUILD\nTEST_1_3\nBUILD\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestCompareJobNames(t *testing.T) {
	want := []string{
		"build: [py3.9]", "build: [py3.10]",
		"test 1/10", "test 2/10", "test 10/10",
		"x01", "x1", "x2", "x2a", "x10",
	}
	got := slices.Clone(want)
	slices.Reverse(got)
	slices.SortFunc(got, compareJobNames)
	if !slices.Equal(got, want) {
		t.Errorf("sorted = %q, want %q", got, want)
	}
}
