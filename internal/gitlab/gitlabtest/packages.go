package gitlabtest

import (
	"io"
	"net/http"
	"strconv"
	"strings"
)

// The generic package registry and release-asset permalinks, as a release
// of pipeline-artifacts publishes its binaries and the CI/CD component
// fetches them.
//
// Routes, from lib/api/generic_packages.rb and
// doc/user/packages/generic_packages/index.md:
//
//	PUT /projects/:id/packages/generic/:package_name/:package_version/:file_name
//	GET /projects/:id/packages/generic/:package_name/:package_version/:file_name
//
// Both take a job token (JOB-TOKEN), a personal/project/deploy token
// (PRIVATE-TOKEN, or basic auth); the upload needs a credential of the
// project, the download of a public project is anonymous. A name or version
// outside GitLab's format is 400; a file that is not there is
// "404 Package Not Found". An upload answers 201 {"message":"201 Created"}.
//
// Release links (doc/user/project/releases/release_fields.md, "Permanent
// links to release assets"): GET /:namespace/:project/-/releases/:tag/downloads/:filepath
// redirects (302) to the link's URL. It is a web route
// (Projects::ReleasesController#downloads, authorize_read_release!): an
// anonymous caller of a private project is sent to /users/sign_in instead,
// as GitLab's web controllers do (the fake has no sessions, so every caller
// of a private project's permalink is anonymous).

// Route names of the package registry and release permalinks.
const (
	RoutePackageUpload   Route = "package_upload"   // PUT /projects/:id/packages/generic/:name/:version/:file
	RoutePackageDownload Route = "package_download" // GET /projects/:id/packages/generic/:name/:version/:file
	RouteReleaseDownload Route = "release_download" // GET /:ns/:project/-/releases/:tag/downloads/*filepath
)

// genericPart is the format GitLab checks for a generic package's name,
// version and file name (Gitlab::Regex.generic_package_name_regex and
// friends: letters, digits, and - . _ + ~; never "." or ".." alone).
func genericPart(v string) bool {
	if v == "" || v == "." || v == ".." {
		return false
	}
	for _, c := range v {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.ContainsRune("-._+~", c):
		default:
			return false
		}
	}
	return true
}

type packageKey struct {
	project             int64
	name, version, file string
}

type releaseKey struct{ path, tag, filepath string }

type releaseLink struct {
	projectID int64
	url       string
}

func (s *Server) packageRoutes(on func(string, Route, http.HandlerFunc)) {
	const g = "/api/v4/projects/{id}/packages/generic/{name}/{version}/{file}"
	on("PUT "+g, RoutePackageUpload, s.putPackageFile)
	on("GET "+g, RoutePackageDownload, s.getPackageFile)
	on("GET /{ns}/{project}/-/releases/{tag}/downloads/{filepath...}", RouteReleaseDownload, s.getReleaseDownload)
}

// packageKeyOf checks the path as GitLab does; the project must be readable.
func packageKeyOf(r *http.Request, projectID int64) (packageKey, *apiError) {
	k := packageKey{projectID, r.PathValue("name"), r.PathValue("version"), r.PathValue("file")}
	if !genericPart(k.name) || !genericPart(k.version) || !genericPart(k.file) {
		return k, errorf(http.StatusBadRequest, "400 Bad request - package_name, package_version or file_name is invalid")
	}
	return k, nil
}

func (s *Server) putPackageFile(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<30))
	if err != nil {
		writeError(w, errorf(http.StatusBadRequest, "400 Bad request"))
		return
	}
	if e := s.view(func(st *state) *apiError {
		who, id, e := st.authorize(r, true)
		if e != nil {
			return e
		}
		if who.anonymous() {
			return errUnauthorized
		}
		k, e := packageKeyOf(r, id)
		if e != nil {
			return e
		}
		st.packages[k] = body
		return nil
	}); e != nil {
		writeError(w, e)
		return
	}
	writeMessage(w, http.StatusCreated, "201 Created")
}

func (s *Server) getPackageFile(w http.ResponseWriter, r *http.Request) {
	var body []byte
	if e := s.view(func(st *state) *apiError {
		_, id, e := st.authorize(r, true)
		if e != nil {
			return e
		}
		k, e := packageKeyOf(r, id)
		if e != nil {
			return e
		}
		var ok bool
		if body, ok = st.packages[k]; !ok {
			return errorf(http.StatusNotFound, "404 Package Not Found")
		}
		return nil
	}); e != nil {
		writeError(w, e)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("Content-Disposition", `attachment; filename="`+r.PathValue("file")+`"`)
	_, _ = w.Write(body)
}

func (s *Server) getReleaseDownload(w http.ResponseWriter, r *http.Request) {
	k := releaseKey{r.PathValue("ns") + "/" + r.PathValue("project"), r.PathValue("tag"), "/" + r.PathValue("filepath")}
	s.mu.Lock()
	link, ok := s.st.releaseLinks[k]
	public := ok && s.st.projects[link.projectID].public
	s.mu.Unlock()
	if ok && !public {
		http.Redirect(w, r, s.URL+"/users/sign_in", http.StatusFound)
		return
	}
	if !ok {
		// The web UI's 404 is a page, not API JSON.
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	http.Redirect(w, r, link.url, http.StatusFound)
}

// AddPackageFile stores a generic package file, as an upload would.
func (s *Server) AddPackageFile(projectID int64, name, version, file string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.addProject(projectID)
	s.st.packages[packageKey{projectID, name, version, file}] = append([]byte(nil), data...)
}

// AddReleaseLink registers a release asset link of project projectID, whose
// path is path ("group/project"): /path/-/releases/tag/downloads + filepath
// redirects to url.
func (s *Server) AddReleaseLink(projectID int64, path, tag, filepath, url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.addProject(projectID)
	s.st.releaseLinks[releaseKey{path, tag, filepath}] = releaseLink{projectID, url}
}
