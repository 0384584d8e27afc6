package download

import (
	"errors"
	"slices"
	"testing"
)

func TestPlanChoosesTheRouteTheCredentialMayUse(t *testing.T) {
	const api = "https://gitlab.example.com/api/v4"
	runner, public := api+"/jobs/12/artifacts", api+"/projects/7/jobs/12/artifacts"
	env := map[string]string{"CI_PROJECT_ID": "7"}
	cases := []struct {
		name      string
		o         Options
		url       string // the selection
		byName    bool   // from the manifest rather than --url
		path      string
		listing   bool
		want      []string
		wantUsage bool
	}{
		{name: "a job token by name takes the runner route even from a public URL", o: Options{JobToken: "j"}, url: public, byName: true,
			want: []string{runner}},
		{name: "a job token with a public --url tries it, then the runner route", o: Options{JobToken: "j"}, url: public,
			want: []string{public, runner}},
		{name: "a job token reads one file by ranges on the runner route", o: Options{JobToken: "j"}, url: runner, path: "dist/a b.txt",
			want: []string{runner + "?direct_download=true"}},
		{name: "a public --url with a query keeps the file in the path", o: Options{JobToken: "j"}, url: public + "?x=y", path: "dist/a b.txt",
			want: []string{public + "/dist/a%20b.txt?x=y", runner + "?direct_download=true&x=y"}},
		{name: "a private token moves a runner URL to the project's API", o: Options{PrivateToken: "p"}, url: runner,
			want: []string{public}},
		{name: "a private token reads one file through the single-file route", o: Options{PrivateToken: "p"}, url: runner, path: "v.txt",
			want: []string{public + "/v.txt"}},
		{name: "a private token lists by ranges on the project's API", o: Options{PrivateToken: "p"}, url: runner, listing: true,
			want: []string{public}},
		{name: "a private token without a project is a usage error", o: Options{PrivateToken: "p", Getenv: func(string) string { return "" }}, url: runner,
			wantUsage: true},
		{name: "a URL that is not GitLab's gets the file in its path", o: Options{JobToken: "j"}, url: "https://pa.example/api/v4/projects/7/pipelines/9/artifacts?job=build", path: "v.txt",
			want: []string{"https://pa.example/api/v4/projects/7/pipelines/9/artifacts/v.txt?job=build"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			if o.Getenv == nil {
				o.Getenv = func(k string) string { return env[k] }
			}
			o.Path = tc.path
			tg := fromURL(tc.url)
			tg.fromUser = !tc.byName
			tg = tg.finish(&o)
			got, err := plan(&o, tg, tc.path != "", tc.listing)
			if tc.wantUsage {
				var ue *UsageError
				if !errors.As(err, &ue) {
					t.Fatalf("err = %v, want a usage error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var urls []string
			for _, a := range got {
				urls = append(urls, a.url)
			}
			if !slices.Equal(urls, tc.want) {
				t.Errorf("plan = %q\nwant   %q", urls, tc.want)
			}
		})
	}
}
