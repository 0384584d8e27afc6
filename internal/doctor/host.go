package doctor

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/hooks"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/secret"
)

// checkCA reads the CA the runner trusts for GitLab. A broken one is
// reported and left out, so that the reachability check still says what
// the system roots make of the certificate.
func (d *run) checkCA(context.Context) {
	if d.o.CAFile == "" {
		return
	}
	name := d.caName()
	b, err := caPEM(d.o.CAFile)
	if err != nil {
		d.add(CheckCA, Fail, Unreadable, "CA %s: %v", name, bareErr(err))
		return
	}
	n, expired := countCerts(b)
	switch {
	case n == 0:
		d.add(CheckCA, Fail, NoCertificate, "CA %s holds no PEM certificate", name)
		return
	case expired > 0:
		d.add(CheckCA, Warn, CertsExpired, "CA %s: %d of %s expired", name, expired, plural(n, "certificate"))
	default:
		d.add(CheckCA, OK, Certificates, "CA %s: %s", name, plural(n, "certificate"))
	}
	d.ca = b
}

func (d *run) caName() string {
	if strings.Contains(d.o.CAFile, "-----BEGIN") {
		return "certificates given inline"
	}
	return "file " + d.o.CAFile
}

// caPEM reads CI_SERVER_TLS_CA_FILE, which reaches a custom-executor driver
// as the file's content and a job as a path.
func caPEM(v string) ([]byte, error) {
	if strings.Contains(v, "-----BEGIN") {
		return []byte(v), nil
	}
	return os.ReadFile(v)
}

func countCerts(b []byte) (n, expired int) {
	for {
		var block *pem.Block
		if block, b = pem.Decode(b); block == nil {
			return n, expired
		}
		if c, err := x509.ParseCertificate(block.Bytes); block.Type == "CERTIFICATE" && err == nil {
			n++
			if time.Now().After(c.NotAfter) {
				expired++
			}
		}
	}
}

// readAdminToken reads the admin token file and registers the token for
// masking, as every command that reads a token does.
func (d *run) readAdminToken(context.Context) {
	if d.o.APITokenFile == "" {
		return
	}
	f, err := os.Open(d.o.APITokenFile)
	if err != nil {
		d.adminErr = err
		return
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		d.adminErr = err
		return
	}
	tok := strings.TrimSpace(string(b))
	secret.Register(tok)
	if tok == "" || strings.ContainsAny(tok, " \t\r\n") {
		d.adminErr = errors.New("must hold exactly one token")
		return
	}
	d.adminTok = tok
}

// checkTokenFile reports on the admin token's file and says whether it
// holds a token.
func (d *run) checkTokenFile() bool {
	f := d.o.APITokenFile
	switch {
	case f == "":
		d.add(CheckAdminFile, Skip, NotGiven, "no admin token (--api-token-file, PIPELINE_ARTIFACTS_API_TOKEN_FILE): jobs rely on the job token")
		return false
	case d.adminErr != nil:
		d.add(CheckAdminFile, Fail, Unreadable, "admin token file %s: %v", f, bareErr(d.adminErr))
		return false
	}
	if fi, err := os.Stat(f); err == nil && fi.Mode().Perm()&0o077 != 0 {
		d.add(CheckAdminFile, Warn, WideMode, "admin token file %s: mode %04o lets other users of this host read it; chmod 600 it", f, fi.Mode().Perm())
	} else {
		d.add(CheckAdminFile, OK, Private, "admin token file %s: one token, readable only by its owner", f)
	}
	return true
}

// bareErr is the cause of a file error without the path the line already
// names.
func bareErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// checkCacheDir looks without touching: doctor may run as another user than
// the runner, and a directory it created would then belong to the wrong one.
func (d *run) checkCacheDir(context.Context) {
	if d.o.CacheTTL <= 0 {
		d.add(CheckCache, Skip, CacheOff, "cache off (--cache-ttl 0): every job lists its pipeline itself")
		return
	}
	dir := d.o.CacheDir
	if dir == "" {
		var err error
		if dir, err = hooks.DefaultCacheDir(); err != nil {
			d.add(CheckCache, Warn, Unreadable, "cache: %v", err)
			return
		}
	}
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		d.cacheToCreate(dir)
	case err != nil:
		d.add(CheckCache, Warn, Unreadable, "cache directory %s: %v", dir, bareErr(err))
	case !fi.IsDir():
		d.add(CheckCache, Warn, NotDirectory, "cache directory %s is not a directory: jobs list without the cache", dir)
	case !writable(dir):
		d.add(CheckCache, Warn, NotWritable, "cache directory %s is not writable: jobs list without the cache", dir)
	case fi.Mode().Perm()&0o077 != 0:
		d.add(CheckCache, Warn, WideMode, "cache directory %s: mode %04o lets other users of this host read the cached job lists (names and ids, no token); chmod 700 it", dir, fi.Mode().Perm())
	default:
		d.add(CheckCache, OK, Writable, "cache directory %s: writable, mode %04o", dir, fi.Mode().Perm())
	}
}

func (d *run) cacheToCreate(dir string) {
	parent := filepath.Dir(dir)
	for parent != filepath.Dir(parent) {
		if _, err := os.Stat(parent); err == nil {
			break
		}
		parent = filepath.Dir(parent)
	}
	if !writable(parent) {
		d.add(CheckCache, Warn, NotWritable, "cache directory %s does not exist and can't be created (%s is not writable): jobs list without the cache", dir, parent)
		return
	}
	d.add(CheckCache, OK, WillCreate, "cache directory %s does not exist yet; the first job creates it (mode 0700)", dir)
}

// checkCommands looks for what jobs on this host call.
func (d *run) checkCommands(context.Context) {
	for _, c := range []struct{ name, why string }{
		{"gitlab-runner", "the runner's job scripts call it to upload and download artifacts, and custom-executor jobs inherit the runner's PATH"},
		{"bash", "custom-executor jobs run their scripts with bash"},
	} {
		if p, ok := lookPathIn(c.name, d.o.Path); ok {
			d.add(CheckCommand, OK, Found, "%s on PATH: %s", c.name, p)
		} else {
			d.add(CheckCommand, Fail, Missing, "%s not on PATH (%s): %s", c.name, d.o.Path, c.why)
		}
	}
}

// lookPathIn is exec.LookPath over a given PATH: the jobs' PATH, not
// necessarily ours.
func lookPathIn(name, pathList string) (string, bool) {
	for _, dir := range filepath.SplitList(pathList) {
		if dir == "" {
			continue
		}
		for _, p := range executableNames(filepath.Join(dir, name)) {
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && executable(fi) {
				return p, true
			}
		}
	}
	return "", false
}
