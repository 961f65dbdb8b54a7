package auth

import "testing"

func TestKeyMatches(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, got, want string
		match           bool
	}{
		{"equal", "pk_live_0123456789", "pk_live_0123456789", true},
		{"different", "pk_live_0123456789", "pk_live_0123456780", false},
		{"prefix", "pk_live_", "pk_live_0123456789", false},
		{"longer", "pk_live_0123456789x", "pk_live_0123456789", false},
		{"empty got", "", "pk_live_0123456789", false},
		{"empty want", "", "", false},
		{"empty want, any got", "anything", "", false},
		{"case differs", "PK", "pk", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := KeyMatches(tt.got, tt.want); got != tt.match {
				t.Errorf("KeyMatches(%q, %q) = %v, want %v", tt.got, tt.want, got, tt.match)
			}
		})
	}
}
