package serve

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

var errBadGateway = errors.New("GitLab answered with a server error")

// Listen configures the HTTP server Run starts.
type Listen struct {
	Addr            string // host:port; port 0 picks a free one
	TLSCert, TLSKey string // both or neither
	// ShutdownTimeout is how long in-flight requests may finish after the
	// context ends (SIGTERM); default 30s.
	ShutdownTimeout time.Duration
	// OnListen, when set, is told the address actually bound.
	OnListen func(addr net.Addr)
}

// Timeouts of every connection. Writes are bounded by WriteTimeout except
// while an archive streams (archiveWriteTimeout, set per request).
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
)

// Run serves s until ctx ends, then shuts down gracefully.
func (s *Service) Run(ctx context.Context, l Listen) error {
	if (l.TLSCert == "") != (l.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	if l.ShutdownTimeout <= 0 {
		l.ShutdownTimeout = 30 * time.Second
	}
	ln, err := net.Listen("tcp", l.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler: s.Handler(), ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: readTimeout,
		WriteTimeout: writeTimeout, IdleTimeout: idleTimeout, MaxHeaderBytes: 64 << 10,
		TLSConfig: &tls.Config{MinVersion: tls.VersionTLS12},
		ErrorLog:  nil,
	}
	if l.OnListen != nil {
		l.OnListen(ln.Addr())
	}
	done := make(chan error, 1)
	go func() {
		if l.TLSCert != "" {
			done <- srv.ServeTLS(ln, l.TLSCert, l.TLSKey)
			return
		}
		done <- srv.Serve(ln)
	}()
	select {
	case err := <-done:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		// Streams that outlive --shutdown-timeout are cut: the service
		// was asked to stop, and stops cleanly, saying so.
		s.cfg.Log.Warnf("shutdown: %v after %v; closing the connections still open", err, l.ShutdownTimeout)
		_ = srv.Close()
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
