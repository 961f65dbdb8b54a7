package sqs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/logging"
)

// API is the part of the SQS client the consumer uses; *sqs.Client
// implements it. Tests wrap it to inject failures.
type API interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, opts ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

var _ API = (*sqs.Client)(nil)

// ClientConfig says how to reach SQS.
type ClientConfig struct {
	// Region is the AWS region. Empty: the SDK's (AWS_REGION, the shared
	// config), else the region in an AWS queue URL, else us-east-1 when
	// Endpoint is set; an error otherwise.
	Region string
	// Endpoint overrides the SQS endpoint, for SQS-compatible servers and
	// VPC endpoints. Empty: AWS's endpoint for Region.
	Endpoint string
	// QueueURL is only used to infer the region.
	QueueURL string
	// Logger receives the SDK's own log lines at debug level (default:
	// discard).
	Logger *slog.Logger
}

// DummyAccessKey is the access key id of the static credentials used with an
// Endpoint override when the default chain finds none.
const DummyAccessKey = "herald-local"

// credsProbeTimeout bounds the look for credentials in the default chain
// when an endpoint override is set (the chain may ask EC2 instance metadata).
const credsProbeTimeout = 3 * time.Second

// NewClient returns an SQS client configured from the SDK's default sources
// (environment, shared config and credentials files, SSO, web identity,
// container and instance roles) and c.
//
// With c.Endpoint set and no credentials anywhere in the default chain, the
// client signs with static dummy credentials, which SQS-compatible servers
// accept; real AWS would refuse them. Without an endpoint override, missing
// credentials surface as errors of the first request.
func NewClient(ctx context.Context, c ClientConfig) (*sqs.Client, error) {
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts := []func(*awsconfig.LoadOptions) error{
		awsconfig.WithLogger(logging.LoggerFunc(func(_ logging.Classification, format string, v ...any) {
			log.Debug(fmt.Sprintf(format, v...), "source", "aws-sdk")
		})),
	}
	if c.Region != "" {
		opts = append(opts, awsconfig.WithRegion(c.Region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load aws config: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = regionOf(c.QueueURL)
	}
	if cfg.Region == "" {
		if c.Endpoint == "" {
			return nil, errors.New("no AWS region: set HERALD_SQS_REGION or AWS_REGION")
		}
		cfg.Region = "us-east-1"
	}
	if c.Endpoint != "" && !hasCredentials(ctx, opts) {
		cfg.Credentials = credentials.NewStaticCredentialsProvider(DummyAccessKey, "herald-local-secret", "")
	}
	return sqs.NewFromConfig(cfg, func(o *sqs.Options) {
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
		}
	}), nil
}

// hasCredentials reports whether the default credential chain, loaded with
// opts, yields credentials. The look-up uses its own HTTP client without
// keep-alives, so that it leaves no connection (to instance metadata, say)
// open behind it.
func hasCredentials(ctx context.Context, opts []func(*awsconfig.LoadOptions) error) bool {
	ctx, cancel := context.WithTimeout(ctx, credsProbeTimeout)
	defer cancel()
	noKeepAlive := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.DisableKeepAlives = true
	})
	cfg, err := awsconfig.LoadDefaultConfig(ctx, append(opts, awsconfig.WithHTTPClient(noKeepAlive))...)
	if err != nil || cfg.Credentials == nil {
		return false
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	return err == nil && creds.HasKeys()
}

// regionOf returns the region of an AWS SQS queue URL such as
// https://sqs.eu-west-1.amazonaws.com/123456789012/q, "" for any other URL.
func regionOf(queueURL string) string {
	u, err := url.Parse(queueURL)
	if err != nil {
		return ""
	}
	parts := strings.Split(u.Hostname(), ".")
	if len(parts) >= 4 && parts[0] == "sqs" && parts[2] == "amazonaws" {
		return parts[1]
	}
	return ""
}
