// Package schemes maps URL schemes to the openers of implementations that
// register themselves from sub-packages (dynamodb://, s3://), the way
// database/sql drivers do, and lists the URL forms a user may give.
package schemes
