package redact

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// BenchmarkRedactPlan masks 20 secrets (tokens, webhook secrets and
// environment values, each in all its spellings) in the plan JSON and the
// plan text of a 10,000-resource plan, with a secret in one resource in a
// thousand. Reported per iteration:
//
//	json-MB, text-MB  sizes of the two texts
//	json-ms, text-ms  time to redact each
//	MB/s              throughput over both
func BenchmarkRedactPlan(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	secrets := make([]string, 20)
	for i := range secrets {
		secrets[i] = randomSecret(rng)
	}
	r := New(secrets...)
	var js, txt strings.Builder
	js.WriteString(`{"format_version":"1.2","resource_changes":[`)
	for i := range 10_000 {
		value := fmt.Sprintf("value-%d-%s", i, randomWords(rng, 6))
		if i%1000 == 0 {
			value = secrets[i/1000]
		}
		if i > 0 {
			js.WriteByte(',')
		}
		fmt.Fprintf(&js, `{"address":"module.m%d.aws_s3_object.o[%d]","mode":"managed","type":"aws_s3_object","name":"o","provider_name":"registry.terraform.io/hashicorp/aws","change":{"actions":["create"],"before":null,"after":{"bucket":"acme-artifacts-%d","key":"objects/%d/data.json","content":%q,"tags":{"team":"platform","env":"prod"}},"after_unknown":{"etag":true,"id":true,"version_id":true}}}`, i%50, i, i%7, i, value)
		fmt.Fprintf(&txt, "  # module.m%d.aws_s3_object.o[%d] will be created\n  + resource \"aws_s3_object\" \"o\" {\n      + bucket  = \"acme-artifacts-%d\"\n      + content = %q\n      + etag    = (known after apply)\n      + id      = (known after apply)\n      + key     = \"objects/%d/data.json\"\n    }\n\n", i%50, i, i%7, value, i)
	}
	js.WriteString(`]}`)
	jsonText, planText := []byte(js.String()), txt.String()
	var jsonTook, textTook time.Duration
	for b.Loop() {
		start := time.Now()
		out := r.Bytes(jsonText)
		jsonTook += time.Since(start)
		start = time.Now()
		outText := r.String(planText)
		textTook += time.Since(start)
		if strings.Count(string(out), Mask) != 10 || strings.Count(outText, Mask) != 10 {
			b.Fatalf("masked %d and %d secrets, want 10 each", strings.Count(string(out), Mask), strings.Count(outText, Mask))
		}
	}
	n := float64(b.N)
	mb := func(x int) float64 { return float64(x) / 1e6 }
	b.ReportMetric(mb(len(jsonText)), "json-MB")
	b.ReportMetric(mb(len(planText)), "text-MB")
	b.ReportMetric(jsonTook.Seconds()*1000/n, "json-ms")
	b.ReportMetric(textTook.Seconds()*1000/n, "text-ms")
	b.ReportMetric(mb(len(jsonText)+len(planText))/((jsonTook+textTook).Seconds()/n), "MB/s")
}
