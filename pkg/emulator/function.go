package emulator

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// InvocationsPath is where RIE takes events, as Lambda's Invoke API does.
	InvocationsPath = "/2015-03-31/functions/function/invocations"

	readyPoll    = 2 * time.Millisecond // fine-grained: start-to-first-response is measured
	readyTimeout = 10 * time.Second
	stopGrace    = 5 * time.Second
	// outputTail bounds what is kept of the output; it is trimmed in halves, not per write.
	outputTail = 1 << 20
	// maxResponse is Lambda's limit on a synchronous response.
	maxResponse = 6 << 20
)

var (
	// ErrRuntimeFailed is an invoke the bootstrap did not answer because it exited: its
	// init failed (a panic in main, such as a missing setting) or it crashed mid-invoke.
	// RIE answers such an invoke with 502 and no body, prints no REPORT line, and starts the
	// bootstrap afresh on the next invoke; what the bootstrap printed says why it exited.
	ErrRuntimeFailed = errors.New("emulator: the function's runtime exited without answering")
	// ErrTimeout is an invoke that ran past AWS_LAMBDA_FUNCTION_TIMEOUT.
	ErrTimeout = errors.New("emulator: the function timed out")
)

// FunctionError is an invoke the function answered with an error: its handler returned
// one. RIE answers it with status 200 and this JSON, as Lambda's Invoke API would with
// X-Amz-Function-Error set.
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

func (e *FunctionError) Error() string {
	return fmt.Sprintf("emulator: function error %s: %s", e.Type, e.Message)
}

// Options configures Start.
type Options struct {
	Bootstrap string // the function's bootstrap executable
	// Env is the function's whole environment (see Environment). RIE hands its own
	// environment to the bootstrap, and nothing of this process's environment is added,
	// so a developer's AWS settings never reach a local run.
	Env map[string]string
	RIE string    // the aws-lambda-rie executable; "" installs the pinned one (Install)
	Log io.Writer // also gets everything the emulator and the function print; nil: Output only
}

// Function is a bootstrap running under the emulator, as a child of aws-lambda-rie.
type Function struct {
	URL string // where Invoke posts events
	// RuntimeAPI is the host:port of the Runtime API that RIE serves, and that it gives the
	// bootstrap as AWS_LAMBDA_RUNTIME_API (overriding any value in Options.Env).
	RuntimeAPI string

	cmd    *exec.Cmd
	client *http.Client
	out    *output
	done   chan struct{} // closed once the emulator has been waited for
	exit   error         // cmd.Wait's result, readable after done is closed

	mu     sync.Mutex
	lastID string // the request id of the latest Invoke

	stopOnce sync.Once
	stopErr  error
}

// errBind marks a start that failed only because a port we picked was taken meanwhile.
var errBind = errors.New("port already in use")

// Start runs the bootstrap under the emulator and returns once the emulator takes
// invokes. The bootstrap itself starts with the first Invoke, as in Lambda. ctx bounds
// only installation and startup: the function runs until Stop.
func Start(ctx context.Context, opts Options) (*Function, error) {
	if opts.Bootstrap == "" {
		return nil, errors.New("emulator: Options.Bootstrap is required")
	}
	bootstrap, err := filepath.Abs(opts.Bootstrap)
	if err != nil {
		return nil, fmt.Errorf("emulator: bootstrap path: %w", err)
	}
	if _, err := os.Stat(bootstrap); err != nil {
		return nil, fmt.Errorf("emulator: bootstrap: %w", err)
	}
	rie := opts.RIE
	if rie == "" {
		if rie, err = Install(ctx); err != nil {
			return nil, err
		}
	}
	// Ports we pick can be taken by someone else before RIE binds them; one retry makes
	// that race practically harmless.
	for attempt := 1; ; attempt++ {
		f, err := start(ctx, rie, bootstrap, opts)
		if err == nil || attempt == 2 || !errors.Is(err, errBind) {
			return f, err
		}
	}
}

// start runs RIE the way its source (cmd/aws-lambda-rie, internal/lambda/rie) takes it:
// the arguments after its flags are the bootstrap command; it takes invokes on
// --runtime-interface-emulator-address and serves the Runtime API to the bootstrap on
// --runtime-api-address (a fixed port: with 0 the bootstrap would be told port 0); it
// hands its whole environment to the bootstrap, and reads AWS_LAMBDA_FUNCTION_TIMEOUT
// (seconds), AWS_LAMBDA_FUNCTION_MEMORY_SIZE and AWS_LAMBDA_FUNCTION_NAME from it. It
// starts the bootstrap only on the first invoke, so a function's init runs inside that.
func start(ctx context.Context, rie, bootstrap string, opts Options) (*Function, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	invokeAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	runtimeAPI := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1]))
	cmd := exec.Command(rie,
		// RIE's info lines narrate every init and invoke; warnings and errors still show.
		"--log-level", "warn",
		"--runtime-interface-emulator-address", invokeAddr,
		"--runtime-api-address", runtimeAPI,
		bootstrap)
	// RIE runs the bootstrap in its own working directory: the build directory, as the
	// deployment package is /var/task in Lambda.
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = environ(opts.Env)
	out := newOutput(opts.Log)
	// One writer for both streams makes exec share a single pipe, which the bootstrap
	// inherits too: its lines, RIE's and the REPORT lines keep their order.
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = time.Second
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("emulator: start %s: %w", rie, err)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = nil
	f := &Function{
		URL:        "http://" + invokeAddr + InvocationsPath,
		RuntimeAPI: runtimeAPI,
		cmd:        cmd,
		client:     &http.Client{Transport: transport},
		out:        out,
		done:       make(chan struct{}),
	}
	go func() {
		f.exit = cmd.Wait()
		close(f.done)
	}()
	if err := f.waitReady(ctx, invokeAddr); err != nil {
		_ = f.Stop()
		return nil, err
	}
	return f, nil
}

// waitReady waits until the emulator accepts connections. A connection is enough: RIE
// serves invokes as soon as it listens, and exits if it cannot bind either of its ports.
func (f *Function) waitReady(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	tick := time.NewTicker(readyPoll)
	defer tick.Stop()
	var dialer net.Dialer
	for {
		conn, err := dialer.DialContext(ctx, "tcp", addr)
		if err == nil {
			conn.Close()
			return nil
		}
		select {
		case <-f.done:
			out := f.Output()
			err := fmt.Errorf("emulator: aws-lambda-rie exited before it took invokes (%v); last output:\n%s", f.exit, lastLines(out, 20))
			if strings.Contains(out, "address already in use") {
				err = fmt.Errorf("%w: %w", errBind, err)
			}
			return err
		case <-ctx.Done():
			return fmt.Errorf("emulator: aws-lambda-rie not taking invokes at %s: %w; last output:\n%s",
				addr, ctx.Err(), lastLines(f.Output(), 20))
		case <-tick.C:
		}
	}
}

// Invoke posts event to the function and returns its response: for an HTTP API function,
// the payload 2.0 response JSON. A handler's error is a *FunctionError (the response is
// returned with it); an exited runtime is ErrRuntimeFailed, a timeout ErrTimeout.
// Invoke one event at a time, as Lambda does: RIE refuses a second while one runs.
func (f *Function) Invoke(ctx context.Context, event []byte) ([]byte, error) {
	id := newRequestID()
	f.mu.Lock()
	f.lastID = id
	f.mu.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.URL, bytes.NewReader(event))
	if err != nil {
		return nil, fmt.Errorf("emulator: invoke: %w", err)
	}
	// RIE names the invoke (and its START, END and REPORT lines) after this header.
	req.Header.Set("X-Amzn-RequestId", id)
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("emulator: invoke: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("emulator: read response: %w", err)
	}
	switch {
	case resp.StatusCode == http.StatusBadGateway:
		// The bootstrap's last words reach the pipe before RIE answers, but may still be
		// on their way through it.
		f.out.settle(50*time.Millisecond, time.Second)
		return nil, fmt.Errorf("%w; last output:\n%s", ErrRuntimeFailed, lastLines(f.Output(), 20))
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("emulator: invoke answered %s: %s", resp.Status, body)
	case len(body) > maxResponse:
		return nil, fmt.Errorf("emulator: response larger than %d MB", maxResponse>>20)
	case bytes.HasPrefix(body, []byte("Task timed out after ")):
		// RIE's own words for a timeout, sent with status 200.
		return nil, fmt.Errorf("%w: %s", ErrTimeout, body)
	}
	if fe := functionError(body); fe != nil {
		return body, fe
	}
	return body, nil
}

// functionError returns the error a response reports, if it is the JSON aws-lambda-go
// posts for a handler's error: errorMessage and errorType, maybe stackTrace, nothing else.
func functionError(body []byte) *FunctionError {
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return nil
	}
	for k := range fields {
		if k != "errorMessage" && k != "errorType" && k != "stackTrace" {
			return nil
		}
	}
	var fe FunctionError
	if fields["errorMessage"] == nil || fields["errorType"] == nil || json.Unmarshal(body, &fe) != nil {
		return nil
	}
	return &fe
}

// Report waits for, and returns, the emulator's REPORT line of the latest Invoke:
// "REPORT RequestId: ...\tDuration: ... ms\tBilled Duration: ...". RIE prints it before it
// answers, for every invoke but one whose runtime exited. Its Init Duration is not the
// init's (RIE measures only the hand-over) and its Max Memory Used is the configured
// memory size, not a measurement: see PeakRSS for that.
func (f *Function) Report(ctx context.Context) (string, error) {
	f.mu.Lock()
	id := f.lastID
	f.mu.Unlock()
	if id == "" {
		return "", errors.New("emulator: no invoke yet")
	}
	prefix := "REPORT RequestId: " + id
	exited := false
	for {
		out, changed := f.out.snapshot()
		if i := strings.Index(out, prefix); i >= 0 {
			if line, _, complete := strings.Cut(out[i:], "\n"); complete {
				return strings.TrimRight(line, "\t "), nil
			}
		}
		if exited {
			return "", fmt.Errorf("emulator: exited without a REPORT line for %s", id)
		}
		select {
		case <-changed:
		case <-f.done:
			exited = true // Wait has copied all output: look once more
		case <-ctx.Done():
			return "", fmt.Errorf("emulator: no REPORT line for %s: %w", id, ctx.Err())
		}
	}
}

// Output is what the emulator and the function have printed so far, in order (the last
// MB of it): the bootstrap's stdout and stderr, RIE's START, END and REPORT lines, and
// RIE's warnings and errors.
func (f *Function) Output() string {
	out, _ := f.out.snapshot()
	return out
}

// RuntimePID is the process id of the bootstrap, a child of the emulator. It exists
// from the first Invoke on, and is replaced after the runtime exits.
func (f *Function) RuntimePID() (int, error) {
	pids, err := children(f.cmd.Process.Pid)
	if err != nil {
		return 0, err
	}
	if len(pids) != 1 {
		return 0, fmt.Errorf("emulator: want one runtime process under aws-lambda-rie (pid %d), found %d", f.cmd.Process.Pid, len(pids))
	}
	return pids[0], nil
}

// Stop ends the emulator and the bootstrap and waits for the emulator; safe to call
// twice. It reports an error only if the emulator had died on its own before.
//
// On SIGTERM RIE kills the bootstrap and exits. Should RIE need SIGKILL instead, the
// bootstrap (in a process group of its own) outlives it only until its poll of the
// Runtime API fails, on which aws-lambda-go exits.
func (f *Function) Stop() error {
	f.stopOnce.Do(func() {
		defer f.client.CloseIdleConnections()
		select {
		case <-f.done:
			if f.exit != nil {
				f.stopErr = fmt.Errorf("emulator: aws-lambda-rie exited before Stop: %w; last output:\n%s",
					f.exit, lastLines(f.Output(), 20))
			}
			return
		default:
		}
		// What RIE says while being stopped is about that, not about the function.
		f.out.mute()
		_ = terminate(f.cmd)
		select {
		case <-f.done:
		case <-time.After(stopGrace):
			_ = kill(f.cmd)
			<-f.done
		}
	})
	return f.stopErr
}

// environ turns env into exec's form, sorted for a stable order. It is never nil: a nil
// Env would make exec pass on this process's whole environment.
func environ(env map[string]string) []string {
	list := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		list = append(list, k+"="+env[k])
	}
	return list
}

// freePorts reserves n distinct loopback ports, then releases them for RIE to bind.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("emulator: find free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// newRequestID returns a random UUID (version 4), the form Lambda's request ids take.
func newRequestID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// output keeps the end of what the emulator prints, forwards it, and lets readers wait
// for more.
type output struct {
	w       atomic.Pointer[io.Writer] // where output is forwarded
	mu      sync.Mutex
	buf     []byte
	changed chan struct{} // closed, and replaced, on every write
}

func newOutput(w io.Writer) *output {
	o := &output{changed: make(chan struct{})}
	if w == nil {
		w = io.Discard
	}
	o.w.Store(&w)
	return o
}

// mute stops the forwarding; the output is still kept.
func (o *output) mute() {
	discard := io.Discard
	o.w.Store(&discard)
}

func (o *output) Write(p []byte) (int, error) {
	// Forwarded first, so that whoever waits for a line (Report) finds it written there
	// too. A failing log writer must not stall the emulator, so its error is dropped.
	_, _ = (*o.w.Load()).Write(p)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf = append(o.buf, p...)
	if len(o.buf) > 2*outputTail {
		o.buf = append(o.buf[:0], o.buf[len(o.buf)-outputTail:]...)
	}
	close(o.changed)
	o.changed = make(chan struct{})
	return len(p), nil
}

// snapshot returns the output so far and a channel closed on the next write.
func (o *output) snapshot() (string, <-chan struct{}) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return string(o.buf), o.changed
}

// settle waits until nothing has been written for quiet, or for at most limit.
func (o *output) settle(quiet, limit time.Duration) {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	for {
		_, changed := o.snapshot()
		select {
		case <-changed:
		case <-time.After(quiet):
			return
		case <-deadline.C:
			return
		}
	}
}
