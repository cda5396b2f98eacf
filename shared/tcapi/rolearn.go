package tcapi

import (
	"fmt"
	"regexp"
)

// RoleARN is a CAM role's resource description, the RoleArn of STS
// AssumeRole (tencentcloud-sdk-go tencentcloud/sts/v20180813/models.go,
// AssumeRoleRequestParams.RoleArn): qcs::cam::uin/12345678:roleName/testRoleName,
// or qcs::cam::uin/12345678:role/4611686018427397919 with the role's id.
// Exactly one of Name and ID is set.
type RoleARN struct {
	Uin  string // the account's uin, digits
	Name string // roleName/<Name>
	ID   string // role/<ID>
}

// Lengths of a role ARN's parts: a uin of at most 20 digits (a uint64),
// a role name of 1-128 of CAM's characters (CreateRole's RoleName: letters,
// digits and +=,.@-_), a role id of at most 128 digits.
const (
	maxUinDigits = 20
	maxRoleName  = 128
	maxRoleID    = 128
)

// reRoleARN has no counted repetition ({1,128} compiles into that many
// copies and costs a function's process tens of KB of heap): ParseRoleARN
// checks the lengths.
var reRoleARN = regexp.MustCompile(`^qcs::cam::uin/([0-9]+):(?:roleName/([\w+=,.@-]+)|role/([0-9]+))$`)

// ParseRoleARN reads a role ARN in either form; anything else, or a part
// longer than its limit, is an error that shows the form wanted.
func ParseRoleARN(s string) (RoleARN, error) {
	m := reRoleARN.FindStringSubmatch(s)
	if m == nil || len(m[1]) > maxUinDigits || len(m[2]) > maxRoleName || len(m[3]) > maxRoleID {
		return RoleARN{}, fmt.Errorf("role %q: want a role ARN such as qcs::cam::uin/100000000002:roleName/JanitorSweepTargetRole "+
			"(the account's uin in digits, then roleName/ and the role's name, or role/ and its id)", s)
	}
	return RoleARN{Uin: m[1], Name: m[2], ID: m[3]}, nil
}

// String is the ARN.
func (r RoleARN) String() string {
	if r.Name != "" {
		return "qcs::cam::uin/" + r.Uin + ":roleName/" + r.Name
	}
	return "qcs::cam::uin/" + r.Uin + ":role/" + r.ID
}
