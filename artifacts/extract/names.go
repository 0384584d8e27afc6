package extract

import "gitlab.com/pipeline-artifacts/pipeline-artifacts/artifacts/internal/entryname"

// The naming rules live in entryname, shared with remotezip's --path.
var (
	cleanName       = entryname.Clean
	checkLinkTarget = entryname.LinkTarget
)

const maxLinkTarget = entryname.MaxLinkTarget
