package workload

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// nginxIndex is /usr/share/nginx/html/index.html of the nginx image, byte for byte
// (615 bytes: the Content-Length learners see in `curl -I`).
const nginxIndex = `<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
`

// httpdIndex is /usr/local/apache2/htdocs/index.html of the httpd image.
const httpdIndex = "<html><body><h1>It works!</h1></body></html>\n"

// siteModTime is the Last-Modified of both index pages: a fixed instant, so that
// conditional requests behave as they do against a real image.
var siteModTime = time.Date(2025, 4, 16, 12, 1, 11, 0, time.UTC)

// site is a static web server with one index page and a podlab /healthz.
type site struct {
	server    string // the Server header
	index     string
	errorPage func(w http.ResponseWriter, r *http.Request, code int)
}

func (s site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Server", s.server)
	switch r.URL.Path {
	case "/", "/index.html":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			s.errorPage(w, r, http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("ETag", fmt.Sprintf(`"%x-%x"`, siteModTime.Unix(), len(s.index)))
		http.ServeContent(w, r, "index.html", siteModTime, strings.NewReader(s.index))
	case "/healthz":
		fmt.Fprint(w, "ok") // podlab's, so probes and the break endpoints work on every image
	default:
		s.errorPage(w, r, http.StatusNotFound)
	}
}

var (
	nginxSite = site{server: "nginx", index: nginxIndex, errorPage: nginxError}
	httpdSite = site{server: "Apache", index: httpdIndex, errorPage: httpdError}
)

// nginxError writes nginx's built-in error page (with server_tokens off, which is
// what the bare "nginx" Server header says).
func nginxError(w http.ResponseWriter, r *http.Request, code int) {
	title := fmt.Sprintf("%d %s", code, http.StatusText(code))
	if code == http.StatusMethodNotAllowed {
		title = "405 Not Allowed" // nginx's wording
	}
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(code)
	fmt.Fprintf(w, "<html>\r\n<head><title>%s</title></head>\r\n<body>\r\n<center><h1>%s</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n", title, title)
}

// httpdError writes httpd's built-in error page.
func httpdError(w http.ResponseWriter, r *http.Request, code int) {
	text := "The requested URL was not found on this server."
	if code == http.StatusMethodNotAllowed {
		text = fmt.Sprintf("The requested method %s is not allowed for this URL.", r.Method)
	}
	w.Header().Set("Content-Type", "text/html; charset=iso-8859-1")
	w.WriteHeader(code)
	fmt.Fprintf(w, "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>%d %s</title>\n</head><body>\n<h1>%s</h1>\n<p>%s</p>\n</body></html>\n", code, http.StatusText(code), http.StatusText(code), text)
}
