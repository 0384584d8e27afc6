package doctor_test

import (
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/doctor"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

// TestDoctorFindingsOnEveryGitLab runs doctor with a running job's token,
// with and without an admin token, against every edition and version the
// fake plays, and wants the facts of that GitLab:
//   - the job token lists pipeline jobs from 18.0; on 17.9 the admin token must;
//   - it lists trigger jobs from 19.2; before, child pipelines need the admin token;
//   - on EE Free job-token downloads take the runner route only.
//
// What a version imposes is a fact (ok); a warning is only for what leaves
// jobs without their siblings.
func TestDoctorFindingsOnEveryGitLab(t *testing.T) {
	for _, p := range gitlabtest.Profiles() {
		for _, admin := range []bool{false, true} {
			name := p.String() + " with the job token alone"
			if admin {
				name = p.String() + " with an admin token"
			}
			t.Run(name, func(t *testing.T) {
				gl := doctorGitLab(t, gitlabtest.WithProfile(p))
				o := healthy(t, gl.URL)
				if admin {
					withAdmin(docAdmin)(t, &o)
				}
				o.JobToken = docJob
				r, err := doctor.Run(t.Context(), o)
				if err != nil {
					t.Fatal(err)
				}
				checkFindings(t, r, profileFindings(p, admin))
				lists := p.JobTokenListsJobs() || admin
				if r.Verdict.Siblings != lists {
					t.Errorf("verdict %+v, want siblings=%v", r.Verdict, lists)
				}
				if lists {
					for _, f := range r.Findings {
						if f.Status != doctor.OK && f.Status != doctor.Skip {
							t.Errorf("%s %s: %s, with nothing to warn about", f.Status, f.Check, f.Message)
						}
					}
				}
			})
		}
	}
}

// profileFindings are the findings doctor owes on p, in order.
func profileFindings(p gitlabtest.Profile, admin bool) []want {
	var out []want
	switch {
	case p.JobTokenListsJobs():
		out = append(out, want{doctor.CheckJobListing, doctor.OK, doctor.Lists})
	case admin:
		out = append(out, want{doctor.CheckJobListing, doctor.OK, doctor.NeedsAdmin})
	default:
		out = append(out, want{doctor.CheckJobListing, doctor.Warn, doctor.Refused})
	}
	if p.JobTokenListsBridges() {
		out = append(out, want{doctor.CheckChildren, doctor.OK, doctor.WithJobToken})
	} else {
		out = append(out, want{doctor.CheckChildren, doctor.OK, doctor.NeedsAdmin})
	}
	switch {
	case !p.JobTokenListsJobs() && !admin:
		// Nothing listed, so no job with an archive to download.
		out = append(out, want{doctor.CheckDownloads, doctor.Skip, doctor.NotTested})
	case p.PublicArtifactsTakeJobToken():
		out = append(out, want{doctor.CheckDownloads, doctor.OK, doctor.PublicRoute})
	default:
		out = append(out, want{doctor.CheckDownloads, doctor.OK, doctor.RunnerRoute})
	}
	return out
}
