package reqlog_test

import "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

func capacityOf(units float64) types.ConsumedCapacity {
	return types.ConsumedCapacity{CapacityUnits: &units}
}
