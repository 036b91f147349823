package dynamolocal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

const (
	readyPoll    = 100 * time.Millisecond
	readyTimeout = 60 * time.Second
	// stopGrace lets the JVM run its shutdown hooks (closing the sqlite file) before SIGKILL.
	stopGrace = 5 * time.Second
	// outputTail bounds what is kept of the server's output for error messages.
	outputTail = 8 << 10
)

// Options configures Start.
type Options struct {
	Port   int       // 0 picks a free port
	DBPath string    // "" runs in memory; else the directory for the database file (created if missing)
	Log    io.Writer // where DynamoDB Local's own stdout/stderr go; nil discards
}

// Server is a running DynamoDB Local child process.
type Server struct {
	Endpoint string // "http://127.0.0.1:PORT"

	cmd    *exec.Cmd
	client *dynamodb.Client
	out    *tailWriter
	done   chan struct{} // closed once the process has been waited for
	exit   error         // cmd.Wait's result, readable after done is closed

	stopOnce sync.Once
	stopErr  error
}

// Start installs DynamoDB Local if needed, starts it and returns once it answers requests.
// ctx bounds only installation and startup: the server runs until Stop, however short ctx is.
//
// DynamoDB Local 3.3.1 has no bind-address flag and listens on every interface; Endpoint
// always names 127.0.0.1, and nothing here relies on the other interfaces.
func Start(ctx context.Context, opts Options) (*Server, error) {
	dist, err := Install(ctx)
	if err != nil {
		return nil, err
	}
	dbPath := opts.DBPath
	if dbPath != "" {
		// Absolute, so the database does not depend on the working directory of whoever runs us.
		if dbPath, err = filepath.Abs(dbPath); err != nil {
			return nil, fmt.Errorf("dynamolocal: db path: %w", err)
		}
		if err := os.MkdirAll(dbPath, 0o755); err != nil {
			return nil, fmt.Errorf("dynamolocal: create db dir: %w", err)
		}
	}

	// A port we pick can be taken by someone else before java binds it; one retry makes
	// that race practically harmless. A port the caller chose is not retried.
	attempts := 1
	if opts.Port == 0 {
		attempts = 2
	}
	for i := 1; ; i++ {
		port := opts.Port
		if port == 0 {
			if port, err = freePort(); err != nil {
				return nil, err
			}
		} else if err := portFree(port); err != nil {
			// Checked up front: java takes seconds to fail on a taken port, and meanwhile
			// readiness would happily accept whatever server already answers there.
			return nil, err
		}
		s, err := start(ctx, dist, port, dbPath, opts.Log)
		if err == nil {
			return s, nil
		}
		if i >= attempts || !errors.Is(err, errBind) {
			return nil, err
		}
	}
}

// errBind marks a start that failed only because the port was taken.
var errBind = errors.New("port already in use")

func start(ctx context.Context, dist Dist, port int, dbPath string, log io.Writer) (*Server, error) {
	args := []string{
		"-Djava.library.path=" + dist.LibDir,
		"-jar", dist.Jar,
		"-port", strconv.Itoa(port),
	}
	if dbPath == "" {
		args = append(args, "-inMemory")
	} else {
		args = append(args, "-dbPath", dbPath)
	}
	// -sharedDb: every region and credential sees the same tables, so tools, tests and the
	// local API agree on what exists whatever their AWS settings.
	args = append(args, "-sharedDb", "-disableTelemetry")

	if log == nil {
		log = io.Discard
	}
	out := &tailWriter{w: log}
	// Not exec.CommandContext: the server must outlive the (usually short) startup ctx.
	cmd := exec.Command("java", args...)
	// One writer for both streams makes exec share a single pipe, so lines keep their order.
	cmd.Stdout, cmd.Stderr = out, out
	// Stop kills the whole process group; WaitDelay only guards against a stray holder of
	// the output pipe keeping Wait from returning.
	cmd.WaitDelay = time.Second
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("dynamolocal: start java: %w", err)
	}

	endpoint := "http://127.0.0.1:" + strconv.Itoa(port)
	s := &Server{
		Endpoint: endpoint,
		cmd:      cmd,
		client:   NewClient(endpoint),
		out:      out,
		done:     make(chan struct{}),
	}
	go func() {
		s.exit = cmd.Wait()
		close(s.done)
	}()

	if err := s.waitReady(ctx); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

// waitReady polls ListTables until the server answers, the process exits, ctx ends or
// readyTimeout passes. The port opening is not enough: the first request must succeed.
func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	tick := time.NewTicker(readyPoll)
	defer tick.Stop()
	// No SDK retries: the loop is the retry, and backoff would only delay readiness.
	noRetry := func(o *dynamodb.Options) { o.Retryer = aws.NopRetryer{} }
	var last error
	for {
		// The first request after the port opens takes ~0.5 s on a warm machine (JVM warm-up).
		attempt, cancelAttempt := context.WithTimeout(ctx, 5*time.Second)
		_, err := s.client.ListTables(attempt, &dynamodb.ListTablesInput{Limit: aws.Int32(1)}, noRetry)
		cancelAttempt()
		if err == nil {
			return nil
		}
		last = err
		select {
		case <-s.done:
			tail := s.out.String()
			err := fmt.Errorf("dynamolocal: java exited before DynamoDB Local was ready (%v); last output:\n%s", s.exit, lastLines(tail, 20))
			if strings.Contains(tail, "java.net.BindException") {
				err = fmt.Errorf("%w: %w", errBind, err)
			}
			return err
		case <-ctx.Done():
			return fmt.Errorf("dynamolocal: DynamoDB Local at %s not ready: %w (last error: %v); last output:\n%s",
				s.Endpoint, ctx.Err(), last, lastLines(s.out.String(), 20))
		case <-tick.C:
		}
	}
}

// Stop ends the process and waits for it; safe to call twice. It reports an error only if
// the process had already died on its own, which callers would otherwise not notice.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		select {
		case <-s.done:
			if s.exit != nil {
				s.stopErr = fmt.Errorf("dynamolocal: DynamoDB Local exited before Stop: %w; last output:\n%s",
					s.exit, lastLines(s.out.String(), 20))
			}
			return
		default:
		}
		_ = terminate(s.cmd)
		select {
		case <-s.done:
		case <-time.After(stopGrace):
			_ = kill(s.cmd)
			<-s.done
		}
	})
	return s.stopErr
}

// Client returns the DynamoDB client for this server (see NewClient).
func (s *Server) Client() *dynamodb.Client { return s.client }

// NewClient returns a DynamoDB client for a DynamoDB Local at endpoint: region us-east-1 and
// static dummy credentials, ignoring the environment's AWS settings so a developer's real
// profile is never used (or needed) against a local database.
func NewClient(endpoint string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(endpoint),
	})
}

// freePort asks the kernel for a free port on every interface, because that is what java
// will bind: a port free on 127.0.0.1 alone can still be taken on another address.
func freePort() (int, error) {
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		return 0, fmt.Errorf("dynamolocal: find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// portFree reports whether port can be bound on every interface, as java will bind it.
func portFree(port int) error {
	l, err := net.Listen("tcp", ":"+strconv.Itoa(port))
	if err != nil {
		return fmt.Errorf("dynamolocal: port %d: %w: %w", port, errBind, err)
	}
	return l.Close()
}

// tailWriter forwards the server's output and keeps its end for error messages.
type tailWriter struct {
	w   io.Writer
	mu  sync.Mutex
	buf []byte
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > outputTail {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-outputTail:]...)
	}
	t.mu.Unlock()
	// A failing log writer must not block or kill the server, so its error is dropped.
	_, _ = t.w.Write(p)
	return len(p), nil
}

func (t *tailWriter) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
