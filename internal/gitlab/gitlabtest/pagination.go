package gitlabtest

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// defaultPerPage is GitLab's per_page when the client sends none.
const defaultPerPage = 20

// writePage answers with one page of items and GitLab's offset-pagination
// headers: X-Page, X-Per-Page, X-Next-Page, X-Prev-Page (empty when there is
// none), X-Total, X-Total-Pages and Link with absolute URLs. OmitTotals drops
// the totals and rel="last", as GitLab does past 10,000 rows.
func writePage[T any](w http.ResponseWriter, r *http.Request, cfg config, items []T) {
	page, perPage, err := pageParams(r.URL.Query(), cfg.perPageMax)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	total := len(items)
	lo := min((page-1)*perPage, total)
	hi := min(lo+perPage, total)
	pages := max(1, (total+perPage-1)/perPage)

	h := w.Header()
	h.Set("X-Page", strconv.Itoa(page))
	h.Set("X-Per-Page", strconv.Itoa(perPage))
	h.Set("X-Next-Page", "")
	h.Set("X-Prev-Page", "")
	var links []string
	if page > 1 {
		h.Set("X-Prev-Page", strconv.Itoa(page-1))
		links = append(links, link(r, page-1, perPage, "prev"))
	}
	if hi < total {
		h.Set("X-Next-Page", strconv.Itoa(page+1))
		links = append(links, link(r, page+1, perPage, "next"))
	}
	links = append(links, link(r, 1, perPage, "first"))
	if !cfg.omitTotals {
		h.Set("X-Total", strconv.Itoa(total))
		h.Set("X-Total-Pages", strconv.Itoa(pages))
		links = append(links, link(r, pages, perPage, "last"))
	}
	h.Set("Link", strings.Join(links, ", "))
	out := items[lo:hi]
	if out == nil {
		out = []T{}
	}
	writeJSON(w, http.StatusOK, out)
}

// pageParams reads page and per_page like GitLab: missing or non-positive
// values fall back to the defaults, per_page is capped at limit, and
// non-numbers are a 400.
func pageParams(q url.Values, limit int) (page, perPage int, err error) {
	page, err = intParam(q, "page", 1)
	if err != nil {
		return 0, 0, err
	}
	perPage, err = intParam(q, "per_page", defaultPerPage)
	if err != nil {
		return 0, 0, err
	}
	return page, min(perPage, limit), nil
}

func intParam(q url.Values, name string, def int) (int, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s is invalid", name)
	}
	if n < 1 {
		return def, nil
	}
	return n, nil
}

// link builds one Link entry: the request's own URL with page and per_page
// replaced, every other parameter (scope[], include_retried) kept.
func link(r *http.Request, page, perPage int, rel string) string {
	q := r.URL.Query()
	q.Set("page", strconv.Itoa(page))
	q.Set("per_page", strconv.Itoa(perPage))
	return fmt.Sprintf("<%s%s?%s>; rel=%q", baseURL(r), r.URL.EscapedPath(), q.Encode(), rel)
}
