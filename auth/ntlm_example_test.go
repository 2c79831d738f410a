package auth_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/psremoting/psremoting/auth"
)

// NTLM over plain HTTP: the authenticator seals every message (WinRM
// message encryption), which is what a default Windows server requires on
// port 5985. The server here is the NTLMServer test middleware.
func ExampleNTLM() {
	srvAuth := auth.NewNTLMServer(auth.NTLMServerConfig{Users: map[string]string{`CORP\alice`: "s3cret!"}})
	srv := httptest.NewServer(srvAuth.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, _ := auth.AuthenticatedUser(r.Context())
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s sent %s", user, body)
	})))
	defer srv.Close()

	rt, err := (&auth.NTLM{Username: `CORP\alice`, Password: "s3cret!"}).Wrap(http.DefaultTransport, auth.WrapOptions{})
	if err != nil {
		panic(err)
	}
	client := &http.Client{Transport: rt}
	resp, err := client.Post(srv.URL+"/wsman", auth.SOAPContentType, strings.NewReader("<Envelope/>"))
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(b))
	// Output: 200 CORP\alice sent <Envelope/>
}

// Basic refuses plain http:// unless the caller opts in.
func ExampleBasic() {
	rt, _ := (&auth.Basic{Username: "admin", Password: "pw"}).Wrap(http.DefaultTransport, auth.WrapOptions{})
	_, err := (&http.Client{Transport: rt}).Post("http://127.0.0.1:1/wsman", auth.SOAPContentType, strings.NewReader(""))
	fmt.Println(err != nil && strings.Contains(err.Error(), "plain http://"))
	// Output: true
}
