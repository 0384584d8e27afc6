package hooks

import (
	"context"
	"fmt"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
)

// Relations of a related pipeline's jobs (Sibling.Relation).
const (
	RelationParent = "parent"
	RelationChild  = "child"
)

// Related pipelines' jobs get <N> with a prefix and RelatedSep: PARENT__<N>
// for the pipeline that triggered this one, <B>__<N> for the child pipeline
// of bridge job B (<B> its name under the naming rule). A same-pipeline <N>
// never holds "__" (runs of other characters become one "_"), so these
// cannot collide with a sibling's name.
const (
	ParentPrefix = "PARENT"
	RelatedSep   = "__"
)

// addRelated adds the parent's and the children's jobs. Failures are
// warnings: the job still gets its own pipeline's siblings.
func (r *Resolution) addRelated(ctx context.Context, rv resolver, own listing) {
	if r.ParentPipelineID != 0 {
		project := r.ParentProjectID
		if project == "" {
			project = r.ProjectID
		}
		if err := r.addPipeline(ctx, rv, project, r.ParentPipelineID, ParentPrefix, RelationParent); err != nil {
			r.Warnings = append(r.Warnings, fmt.Sprintf("parent pipeline %d not listed: %v", r.ParentPipelineID, err))
		}
	}
	if r.Children {
		r.addChildren(ctx, rv, own)
	}
}

func (r *Resolution) addChildren(ctx context.Context, rv resolver, own listing) {
	switch {
	case own.BridgesRefused:
		r.Notes = append(r.Notes, "child pipelines not looked for: "+own.BridgesErr+
			" (GitLab before 19.2 takes no job token on /bridges; an admin read_api token lists them)")
		return
	case own.BridgesErr != "":
		r.Warnings = append(r.Warnings, "child pipelines not listed: "+own.BridgesErr)
		return
	}
	bridges := own.Bridges
	vars, _ := AssignVarNames(bridgeNames(bridges))
	for _, b := range LatestAttempts(bridges) {
		d := b.DownstreamPipeline
		if d == nil || d.ID == 0 {
			continue // not triggered yet
		}
		project := fmt.Sprint(d.ProjectID)
		if d.ProjectID == 0 {
			project = r.ProjectID
		}
		if err := r.addPipeline(ctx, rv, project, d.ID, vars[b.Name], RelationChild); err != nil {
			r.Warnings = append(r.Warnings, fmt.Sprintf("child pipeline %d of %q not listed: %v", d.ID, b.Name, err))
		}
	}
}

// addPipeline lists one related pipeline and appends its jobs as siblings
// whose <N> and <G> carry prefix.
func (r *Resolution) addPipeline(ctx context.Context, rv resolver, project string, pipeline int64, prefix, relation string) error {
	l, _, err := rv.pipeline(ctx, project, pipeline, false)
	if err != nil {
		return err
	}
	jobs := l.Jobs
	sibs, collisions := BuildSiblings(LatestAttempts(jobs), 0, r.APIURL, project)
	for i := range sibs {
		sibs[i].Var = prefix + RelatedSep + sibs[i].Var
		if sibs[i].Group != "" {
			sibs[i].Group = prefix + RelatedSep + sibs[i].Group
		}
		sibs[i].Source, sibs[i].Pipeline, sibs[i].Relation = SourceAPI, pipeline, relation
	}
	r.Siblings = append(r.Siblings, sibs...)
	r.Collisions = append(r.Collisions, collisions...)
	return nil
}

func bridgeNames(bridges []gitlab.Job) []string {
	names := make([]string, 0, len(bridges))
	for _, b := range LatestAttempts(bridges) {
		names = append(names, b.Name)
	}
	return names
}
