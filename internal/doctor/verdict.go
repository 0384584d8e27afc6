package doctor

import "fmt"

// Verdict is doctor's answer: would a job on this host get its siblings?
type Verdict struct {
	Siblings bool
	From     string // what jobs would list with, when Siblings
	Missing  string // why not, otherwise
}

// verdict names what jobs would list with. A listing that worked is proof;
// an accepted admin token, or a GitLab whose version allows the job token,
// counts when nothing could be listed to prove otherwise.
func (d *run) verdict() Verdict {
	job := d.report.Job.ListJobs
	switch {
	case job == Allowed && d.adminSt == adminLists:
		return Verdict{Siblings: true, From: "job token; admin token as fallback"}
	case job == Allowed:
		return Verdict{Siblings: true, From: "job token"}
	case d.adminSt == adminLists:
		return Verdict{Siblings: true, From: "admin token"}
	case d.adminSt == adminAccepted:
		return Verdict{Siblings: true, From: "admin token; its listing untested without --project"}
	case job != Denied && d.report.Job.Identity != Denied && versionMajor(d.report.Version) >= 18:
		return Verdict{Siblings: true, From: fmt.Sprintf("job token, which GitLab %s should allow; untested without a running job's token", d.report.Version)}
	}
	return Verdict{Missing: d.missing()}
}

func (d *run) missing() string {
	admin := "the admin token does not work (see above)"
	if d.adminSt == adminNone {
		admin = "no admin token is configured (--api-token-file)"
	}
	v := d.report.Version
	switch {
	case !d.reachable:
		return "GitLab is not reachable"
	case d.report.Job.ListJobs == Denied:
		return "GitLab refuses the job token for pipeline jobs and " + admin
	case v != "" && versionMajor(v) < 18:
		return fmt.Sprintf("GitLab %s refuses the job token for pipeline jobs and %s", v, admin)
	}
	return "nothing shows the job token may list pipeline jobs and " + admin
}
