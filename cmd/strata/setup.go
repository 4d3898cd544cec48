package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/strata-iac/strata/internal/awsconfig"
	"github.com/strata-iac/strata/runner/lock/dynamodb"
	"github.com/strata-iac/strata/runner/queue/sqs"
	"github.com/strata-iac/strata/runner/store/s3"
)

func newSetupCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "setup",
		Short: "Create the cloud resources strata runs on",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newSetupAWSCmd())
	return cmd
}

func newSetupAWSCmd() *cobra.Command {
	var table, bucket, region, queueName string
	var maxReceive int
	cmd := &cobra.Command{
		Use:   "aws --table NAME --bucket NAME [--queue NAME] [--region R]",
		Short: "Create the DynamoDB lock table, the S3 artifact bucket and the SQS queue when missing",
		Long: `Create the DynamoDB lock table (on-demand, partition key LockID, TTL on
expires_at) and the S3 artifact bucket (versioned, encrypted with SSE-S3,
public access blocked) when they are missing. With --queue, also the SQS
FIFO queue replicas share their work on (".fifo" is appended to NAME when
missing) and its dead-letter queue, NAME-dead-letters.fifo, where a message
goes after --max-receive-count deliveries. Existing ones are left as they
are, so running it again is safe.

Credentials, region and endpoints come from the AWS SDK's usual sources:
AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_REGION,
AWS_ENDPOINT_URL, instance and container roles, and so on.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			t, err := dynamodb.EnsureTable(cmd.Context(), table, region)
			if errors.Is(err, awsconfig.ErrNoRegion) {
				return fmt.Errorf("%w, or --region", err)
			}
			if err != nil {
				return err
			}
			if t.Created {
				fmt.Fprintf(out, "created DynamoDB table %s in %s (on-demand, partition key LockID, TTL on expires_at)\n", t.Name, t.Region)
			} else {
				fmt.Fprintf(out, "found DynamoDB table %s in %s, left unchanged\n", t.Name, t.Region)
			}
			if t.TTLAttribute != "expires_at" {
				fmt.Fprintf(out, "  note: TTL is not on expires_at, so expired leases are ignored but never deleted\n")
			}
			b, err := s3.EnsureBucket(cmd.Context(), bucket, region)
			if err != nil {
				return err
			}
			if b.Created {
				fmt.Fprintf(out, "created S3 bucket %s in %s (versioned, SSE-S3 encryption, public access blocked)\n", b.Name, b.Region)
			} else {
				fmt.Fprintf(out, "found S3 bucket %s, left unchanged\n", b.Name)
			}
			use := fmt.Sprintf("--locks dynamodb://%s --store s3://%s/strata", t.Name, b.Name)
			if queueName != "" {
				q, err := sqs.EnsureQueue(cmd.Context(), queueName, region, maxReceive)
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "%s SQS FIFO queue %s in %s\n", createdOrFound(q.Created), q.Name, q.Region)
				fmt.Fprintf(out, "%s SQS dead-letter queue %s (a message goes there after %d deliveries)\n", createdOrFound(q.DeadCreated), q.DeadName, q.MaxReceiveCount)
				use += " --queue sqs://" + q.Name
			}
			fmt.Fprintf(out, "use them with: %s\n", use)
			return nil
		},
	}
	cmd.Flags().StringVar(&table, "table", "", "DynamoDB table for locks (required)")
	cmd.Flags().StringVar(&bucket, "bucket", "", "S3 bucket for artifacts (required)")
	cmd.Flags().StringVar(&queueName, "queue", "", "SQS FIFO queue for the server's work, shared by its replicas (optional)")
	cmd.Flags().IntVar(&maxReceive, "max-receive-count", sqs.DefaultMaxReceiveCount, "deliveries of a message before it goes to the dead-letter queue (a new queue only)")
	cmd.Flags().StringVar(&region, "region", "", "AWS region (default: the SDK's, e.g. AWS_REGION)")
	_ = cmd.MarkFlagRequired("table")
	_ = cmd.MarkFlagRequired("bucket")
	return cmd
}

func createdOrFound(created bool) string {
	if created {
		return "created"
	}
	return "found, left unchanged:"
}
