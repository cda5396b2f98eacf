// Package deps pins the project's dependencies while the packages that use
// them are being written. Delete it once every module is imported for real.
package deps

import (
	_ "github.com/aws/aws-lambda-go/lambda"
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	_ "github.com/tencentyun/cos-go-sdk-v5"
	_ "golang.org/x/time/rate"
	_ "gopkg.in/yaml.v3"
)
