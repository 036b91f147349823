package emulator

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/leaderboardapi/leaderboard/pkg/localenv"
	"github.com/leaderboardapi/leaderboard/pkg/samtemplate"
)

// Region is the AWS region of local runs.
const Region = "us-east-1"

// Lambda's own defaults, for a template that does not set MemorySize or Timeout (RIE's
// would be 3008 MB and 300 s).
const (
	defaultMemoryMB = 128
	defaultTimeout  = 3
)

// Local is what stands in, on this machine, for the AWS resources that a function's
// environment names in the template.
type Local struct {
	Table            string // the table's name: what !Ref Table resolves to
	DynamoDBEndpoint string // DynamoDB Local, passed as DYNAMODB_ENDPOINT
	// SigningKeyFile is the signing key seed that replaces SIGNING_KEY_SECRET_ARN, as
	// there is no Secrets Manager here. Give it absolute: the function runs in its build
	// directory.
	SigningKeyFile string
	// Parameters are the template's parameters, for a variable set to !Ref of one: their
	// defaults (samtemplate.Template.ParameterDefaults), as a stack deployed without
	// overrides has them.
	Parameters map[string]string
}

// Environment returns the environment fn runs with locally. It is the template's
// Environment.Variables (Globals merged), with !Ref Table resolved to local.Table, a !Ref
// of a parameter to local.Parameters, and
// SIGNING_KEY_SECRET_ARN replaced by SIGNING_KEY_FILE; then DYNAMODB_ENDPOINT, dummy
// credentials (DynamoDB Local takes any), and what Lambda itself sets for the function:
// AWS_REGION and AWS_DEFAULT_REGION, TZ, AWS_LAMBDA_FUNCTION_NAME (the logical ID, as
// sam local names it), AWS_LAMBDA_FUNCTION_MEMORY_SIZE, AWS_LAMBDA_LOG_FORMAT from
// LoggingConfig, and AWS_LAMBDA_FUNCTION_TIMEOUT, which RIE reads as the invoke timeout.
//
// A variable set to any other intrinsic is an error that names it: only CloudFormation
// knows its value, and a function must not start locally with it silently missing.
func Environment(fn samtemplate.Function, local Local) (map[string]string, error) {
	env := make(map[string]string, len(fn.Environment)+10)
	for _, name := range slices.Sorted(maps.Keys(fn.Environment)) {
		if name == "SIGNING_KEY_SECRET_ARN" {
			if local.SigningKeyFile == "" {
				return nil, fmt.Errorf("emulator: %s: %s needs Local.SigningKeyFile", fn.LogicalID, name)
			}
			env["SIGNING_KEY_FILE"] = local.SigningKeyFile
			continue
		}
		v, err := localValue(fn.Environment[name], local)
		if err != nil {
			return nil, fmt.Errorf("emulator: %s: %s: %w", fn.LogicalID, name, err)
		}
		env[name] = v
	}

	memory, err := intProperty(fn, "MemorySize", defaultMemoryMB)
	if err != nil {
		return nil, err
	}
	timeout, err := intProperty(fn, "Timeout", defaultTimeout)
	if err != nil {
		return nil, err
	}
	logFormat := "Text" // Lambda's default
	if cfg, ok := fn.Properties["LoggingConfig"].(map[string]any); ok {
		if f, ok := cfg["LogFormat"].(string); ok {
			logFormat = f
		}
	}
	// AWS_LAMBDA_LOG_LEVEL is left to the functions' own default (INFO): the template
	// takes ApplicationLogLevel from a parameter, which a Function does not carry.
	maps.Copy(env, map[string]string{
		"AWS_REGION":                      Region,
		"AWS_DEFAULT_REGION":              Region,
		"AWS_ACCESS_KEY_ID":               "local",
		"AWS_SECRET_ACCESS_KEY":           "local",
		"AWS_LAMBDA_FUNCTION_NAME":        fn.LogicalID,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(memory),
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     strconv.Itoa(timeout),
		"AWS_LAMBDA_LOG_FORMAT":           logFormat,
		"TZ":                              ":UTC",
	})
	if local.DynamoDBEndpoint != "" {
		env["DYNAMODB_ENDPOINT"] = local.DynamoDBEndpoint
	}
	return env, nil
}

// localValue is what a template value of an environment variable is locally.
func localValue(v any, local Local) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case int, float64, bool:
		return fmt.Sprint(v), nil // CloudFormation passes every value as a string
	case map[string]any:
		if ref, _ := v["Ref"].(string); len(v) == 1 && local.Parameters[ref] != "" {
			return local.Parameters[ref], nil
		}
		if ref, _ := v["Ref"].(string); ref == localenv.TableLogicalID && len(v) == 1 {
			if local.Table == "" {
				return "", errors.New("!Ref " + ref + " needs Local.Table")
			}
			return local.Table, nil
		}
	}
	return "", fmt.Errorf("%v has no local value", v)
}

func intProperty(fn samtemplate.Function, name string, fallback int) (int, error) {
	switch v := fn.Properties[name].(type) {
	case nil:
		return fallback, nil
	case int:
		return v, nil
	case string:
		if n, err := strconv.Atoi(v); err == nil {
			return n, nil
		}
	}
	return 0, fmt.Errorf("emulator: %s: %s is %v, not a number", fn.LogicalID, name, fn.Properties[name])
}
