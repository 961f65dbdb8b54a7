package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

const nginxHow = "apt-get install nginx"

// NginxPath returns the nginx binary: `nginx` on PATH, else /usr/sbin/nginx
// (Debian installs it there, outside a non-root PATH). When there is none
// the test ends through Missing.
func NginxPath(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	const sbin = "/usr/sbin/nginx"
	if fi, err := os.Stat(sbin); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
		return sbin
	}
	Missing(t, "nginx", "no nginx on PATH or at "+sbin, nginxHow)
	return ""
}

// Nginx runs nginx in the foreground (a child of the test, stopped and its
// files removed at cleanup) with httpConf as the body of its http {} block,
// and returns the base URL of the listener, "http://127.0.0.1:PORT".
//
// httpConf is called with the address to listen on ("127.0.0.1:PORT") and
// must return upstream and server blocks whose server listens there. The
// listening socket is made by the test and handed to nginx (nginx's NGINX
// inherited-sockets variable), so there is no race for the port and no
// wait: connections queue until nginx accepts them. Everything nginx writes
// (pid, temp files, logs) stays under a temporary directory; its error log
// goes to the test log when the test fails.
func Nginx(t testing.TB, httpConf func(listen string) string) string {
	t.Helper()
	bin := NginxPath(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("nginx: listen: %v", err)
	}
	lf, err := ln.(*net.TCPListener).File()
	_ = ln.Close() // lf holds its own descriptor of the socket
	if err != nil {
		t.Fatalf("nginx: listener file: %v", err)
	}
	defer func() { _ = lf.Close() }() // nginx has its copy once started
	addr := ln.Addr().String()

	dir := t.TempDir()
	for _, d := range []string{"logs", "client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatalf("nginx: %v", err)
		}
	}
	// As root, nginx would run its workers as nobody, who cannot enter
	// the test's temporary directory.
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;\n"
	}
	conf := fmt.Sprintf(`%sworker_processes 1;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path %[2]s/client_body;
    proxy_temp_path %[2]s/proxy;
    fastcgi_temp_path %[2]s/fastcgi;
    uwsgi_temp_path %[2]s/uwsgi;
    scgi_temp_path %[2]s/scgi;

%[3]s
}
`, user, dir, httpConf(addr))
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatalf("nginx: %v", err)
	}

	// nginx -t reports a configuration error with nginx's own message,
	// rather than a connection failure later. It binds nothing.
	args := []string{"-p", dir + "/", "-c", confPath, "-e", "stderr",
		"-g", "daemon off; pid " + filepath.Join(dir, "nginx.pid") + "; error_log stderr notice;"}
	if out, err := exec.Command(bin, append([]string{"-t"}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("nginx -t: %v\n%s\n%s", err, out, conf)
	}

	var output Buffer
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout = &output
	cmd.Stderr = &output
	// The socket is descriptor 3 in nginx; NGINX lists inherited sockets.
	cmd.ExtraFiles = []*os.File{lf}
	cmd.Env = append(os.Environ(), "NGINX=3;")
	cmd.SysProcAttr = nginxProcAttr()
	// SIGTERM is nginx's fast shutdown: open streams end at once.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("nginx: start: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		err := cmd.Wait()
		// After the SIGTERM, Wait reports the cancellation (a clean exit)
		// or the exit status; anything else is a failure to stop.
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) && !errors.Is(err, context.Canceled) {
			t.Errorf("nginx: %v", err)
		}
		if t.Failed() {
			t.Logf("nginx output:\n%s", output.String())
		}
	})
	return "http://" + addr
}
