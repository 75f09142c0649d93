module github.com/cfcookies/cfcookies/signer

go 1.25

require github.com/aws/aws-sdk-go-v2/feature/cloudfront/sign v1.9.16
