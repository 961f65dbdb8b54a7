package testenv

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// sqsHow tells a developer how to get the SQS-compatible server.
const sqsHow = "install Node.js 20+ with npm; the tests install local-aws-sqs from test/sqs/package-lock.json (npm ci --prefix test/sqs)"

// SQSServer is a local-aws-sqs server on loopback, private to one test.
type SQSServer struct {
	// Endpoint is the server's base URL, for HERALD_SQS_ENDPOINT.
	Endpoint string
	// Client is an SQS client for Endpoint with dummy credentials.
	Client *sqs.Client

	seq atomic.Int64
}

// SQS starts an SQS-compatible server (the npm package local-aws-sqs,
// installed into test/sqs from its lockfile on first use) on a free
// loopback port, and stops it when the test ends. Without node and npm the
// test is skipped, or failed where the service is required (see Missing).
func SQS(t testing.TB) *SQSServer {
	t.Helper()
	dir, err := sqsDir()
	if err != nil {
		t.Fatal(err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		Missing(t, "sqs", "node not found", sqsHow)
	}
	if err := installSQS(dir); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			Missing(t, "sqs", "npm not found", sqsHow)
		}
		t.Fatalf("install local-aws-sqs: %v", err)
	}

	cmd := exec.Command(node, "server.mjs", "0")
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe() // the server exits when it closes
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start local-aws-sqs: %v", err)
	}
	exited := make(chan struct{})
	t.Cleanup(func() {
		_ = stdin.Close()
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout)
		_ = cmd.Wait()
		close(exited)
	}()
	var line string
	select {
	case line = <-lines:
	case <-time.After(20 * time.Second):
		t.Fatal("local-aws-sqs did not start within 20s")
	}
	endpoint, ok := strings.CutPrefix(line, "listening ")
	if !ok {
		t.Fatalf("local-aws-sqs: unexpected first line %q", line)
	}
	return &SQSServer{Endpoint: endpoint, Client: NewSQSClient(endpoint)}
}

// NewSQSClient returns an SQS client for an SQS-compatible server at
// endpoint, with dummy credentials and region us-east-1.
func NewSQSClient(endpoint string) *sqs.Client {
	return sqs.New(sqs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
}

// CreateQueue creates a queue with a name unique to the test and the given
// attributes (for example VisibilityTimeout, RedrivePolicy) and returns its
// URL.
func (s *SQSServer) CreateQueue(t testing.TB, attrs map[string]string) string {
	t.Helper()
	name := fmt.Sprintf("%s-%d", queueName(t.Name()), s.seq.Add(1))
	out, err := s.Client.CreateQueue(context.Background(), &sqs.CreateQueueInput{
		QueueName: aws.String(name), Attributes: attrs,
	})
	if err != nil {
		t.Fatalf("create queue %s: %v", name, err)
	}
	return aws.ToString(out.QueueUrl)
}

// QueueARN returns the ARN of the queue at url (for a RedrivePolicy).
func (s *SQSServer) QueueARN(t testing.TB, url string) string {
	t.Helper()
	out, err := s.Client.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url), AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatalf("queue arn of %s: %v", url, err)
	}
	return out.Attributes[string(types.QueueAttributeNameQueueArn)]
}

// queueName turns a test name into a valid queue name prefix.
func queueName(test string) string {
	b := []byte(test)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	if len(b) > 60 {
		b = b[len(b)-60:]
	}
	return string(b)
}

// sqsDir returns the directory of the server's package files, test/sqs at
// the repository root.
func sqsDir() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("testenv: cannot locate the source tree")
	}
	dir := filepath.Join(filepath.Dir(file), "..", "..", "test", "sqs")
	if _, err := os.Stat(filepath.Join(dir, "package-lock.json")); err != nil {
		return "", fmt.Errorf("testenv: %w", err)
	}
	return dir, nil
}

// installSQS runs npm ci in dir unless local-aws-sqs is installed there,
// holding a file lock so that concurrent test processes install once.
func installSQS(dir string) error {
	marker := filepath.Join(dir, "node_modules", "local-aws-sqs", "package.json")
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return err
	}
	unlock, err := lockFile(filepath.Join(os.TempDir(), "herald-test-sqs-install.lock"))
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := os.Stat(marker); err == nil {
		return nil // installed by another process while we waited
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--prefix", dir, "--no-audit", "--no-fund", "--loglevel=error")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("npm ci: %w: %s", err, out)
	}
	return nil
}
