package service

import (
	"testing"

	"github.com/redlane/redlane/domain/order"
)

func TestRedactFindsTheNumberHoweverWritten(t *testing.T) {
	r := order.Requester{Name: "赵秀兰", Phone: "13912345678"}
	for in, want := range map[string]string{
		"已电话联系赵秀兰（+86 139 1234 5678），换了水管": "已电话联系居民（139****5678），换了水管",
		"回电 139-1234-5678 。":               "回电 139****5678 。",
		"13912345678":                      "139****5678",
		"门牌 3-201，电话 0086 13912345678":     "门牌 3-201，电话 139****5678",
		"别的号码 13800001111 不动":              "别的号码 13800001111 不动",
	} {
		if got := redact(in, r); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}
