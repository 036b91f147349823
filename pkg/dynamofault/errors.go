package dynamofault

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// The errors are shaped as the SDK's deserializer and ResponseErrorWrapper shape a real
// error response, because the layer returns them from inside the retry loop, above both:
// the retryer classifies them by code and HTTP status exactly as it would the service's.

func serviceError(status int, err error) error {
	return &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status, Header: http.Header{}}},
			Err:      err,
		},
		RequestID: "dynamofault",
	}
}

func internalServerError() error {
	return serviceError(http.StatusInternalServerError, &types.InternalServerError{
		Message: aws.String("Internal server error (injected by dynamofault before the request was applied)"),
	})
}

// lostResponse is what a caller sees when the request was applied but its response never
// arrived: a 500, or a client-side timeout while awaiting the response headers.
func lostResponse(endpoint string, asTimeout bool) error {
	if !asTimeout {
		return serviceError(http.StatusInternalServerError, &types.InternalServerError{
			Message: aws.String("Internal server error (injected by dynamofault after the request was applied)"),
		})
	}
	return &smithyhttp.RequestSendError{Err: &url.Error{Op: "Post", URL: endpoint, Err: timeoutError{}}}
}

type timeoutError struct{}

func (timeoutError) Error() string {
	return "dynamofault: response lost after the request was applied (Client.Timeout exceeded while awaiting headers)"
}
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func transactionConflict() error {
	return serviceError(http.StatusBadRequest, &types.TransactionConflictException{
		Message: aws.String("Transaction is ongoing for the item"),
	})
}

const (
	reasonNone       = "None"
	reasonConflict   = "TransactionConflict"
	reasonThrottling = "ThrottlingError"
)

// transactionCanceled has one reason per item of the request, in order, as the service does.
func transactionCanceled(codes []string) error {
	reasons := make([]types.CancellationReason, len(codes))
	for i, c := range codes {
		reasons[i].Code = aws.String(c)
		switch c {
		case reasonConflict:
			reasons[i].Message = aws.String("Transaction is ongoing for the item")
		case reasonThrottling:
			reasons[i].Message = aws.String("Throughput exceeds the current capacity for one or more partition keys")
		}
	}
	return serviceError(http.StatusBadRequest, &types.TransactionCanceledException{
		Message:             aws.String("Transaction cancelled, please refer cancellation reasons for specific reasons [" + strings.Join(codes, ", ") + "]"),
		CancellationReasons: reasons,
	})
}

// throughputExceeded is the service's answer to a hot partition key, in on-demand mode as
// in provisioned mode: the KeyRangeThroughputExceeded throttling reason.
func throughputExceeded(tableARN string, write bool) error {
	reason := "TableReadKeyRangeThroughputExceeded"
	if write {
		reason = "TableWriteKeyRangeThroughputExceeded"
	}
	return serviceError(http.StatusBadRequest, &types.ProvisionedThroughputExceededException{
		Message:           aws.String("Throughput exceeds the current capacity of your table or index."),
		ThrottlingReasons: []types.ThrottlingReason{{Reason: aws.String(reason), Resource: aws.String(tableARN)}},
	})
}

func transactionInProgress() error {
	return serviceError(http.StatusBadRequest, &types.TransactionInProgressException{
		Message: aws.String("Transaction with the same client request token is in progress"),
	})
}

func idempotentParameterMismatch() error {
	return serviceError(http.StatusBadRequest, &types.IdempotentParameterMismatchException{
		Message: aws.String("Request parameters differ from an earlier request with the same client request token"),
	})
}
