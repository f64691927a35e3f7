package testidp

import (
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
)

var (
	formRe  = regexp.MustCompile(`(?is)<form[^>]*\baction="([^"]*)"[^>]*>(.*?)</form>`)
	inputRe = regexp.MustCompile(`(?is)<input[^>]*>`)
	attrRe  = regexp.MustCompile(`(?is)\b(name|value)="([^"]*)"`)
)

// SignIn plays a person's browser against any provider: it GETs authURL,
// follows the provider's redirects, submits each sign-in form it meets
// (with its pre-filled values, overridden by fields), and stops at the
// redirect to callbackPrefix, which it then GETs itself — delivering the
// callback to the login's callback server. It returns that last answer.
func SignIn(authURL, callbackPrefix string, fields map[string]string) (int, string, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return 0, "", err
	}
	var callback string
	client := &http.Client{Jar: jar, CheckRedirect: func(r *http.Request, via []*http.Request) error {
		if strings.HasPrefix(r.URL.String(), callbackPrefix) {
			callback = r.URL.String()
			return http.ErrUseLastResponse
		}
		if len(via) > 10 {
			return errors.New("too many redirects")
		}
		return nil
	}}
	resp, err := client.Get(authURL)
	for step := 0; err == nil && callback == "" && step < 5; step++ {
		var body string
		body, err = readClose(resp)
		if err != nil {
			break
		}
		m := formRe.FindStringSubmatch(body)
		if m == nil {
			return resp.StatusCode, body, fmt.Errorf("the provider's page at %s has no form and no redirect to the callback", resp.Request.URL)
		}
		action, perr := resp.Request.URL.Parse(html.UnescapeString(m[1]))
		if perr != nil {
			return 0, "", perr
		}
		resp, err = client.PostForm(action.String(), formValues(m[2], fields))
	}
	if err != nil {
		return 0, "", err
	}
	if callback == "" {
		return 0, "", errors.New("the provider never redirected to the callback")
	}
	resp.Body.Close()
	final, err := http.Get(callback)
	if err != nil {
		return 0, "", err
	}
	body, err := readClose(final)
	return final.StatusCode, body, err
}

func formValues(form string, fields map[string]string) url.Values {
	v := url.Values{}
	for _, in := range inputRe.FindAllString(form, -1) {
		var name, value string
		for _, a := range attrRe.FindAllStringSubmatch(in, -1) {
			if strings.EqualFold(a[1], "name") {
				name = html.UnescapeString(a[2])
			} else {
				value = html.UnescapeString(a[2])
			}
		}
		if name != "" {
			v.Set(name, value)
		}
	}
	for k, val := range fields {
		v.Set(k, val)
	}
	return v
}

func readClose(resp *http.Response) (string, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return string(b), err
}
