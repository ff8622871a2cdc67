package embedsso

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/embedsso/embedsso/internal/origin"
)

// orgPolicy is an organization's parsed allow-list and the frame-ancestors
// CSP built from it.
type orgPolicy struct {
	origins []string // what it was built from, to notice a change
	allowed origin.List
	csp     string
}

// frameNone is the CSP of every answer given before the organization is
// known, or for one that is disabled or misconfigured: framed by no one.
const frameNone = "frame-ancestors 'none'"

// policyCache builds each organization's policy once rather than parsing its
// allow-list and formatting its CSP on every request. An entry is rebuilt
// when the organization's AllowedOrigins differ from those it was built
// from, so a changed organization takes effect on its next request.
type policyCache struct {
	m sync.Map // org id → *orgPolicy
	n atomic.Int64
}

// maxCachedPolicies bounds the cache; past it the cache starts over.
const maxCachedPolicies = 1 << 16

func (c *policyCache) get(org *Org) (*orgPolicy, error) {
	if v, ok := c.m.Load(org.ID); ok {
		if p := v.(*orgPolicy); slices.Equal(p.origins, org.AllowedOrigins) {
			return p, nil
		}
	}
	allowed, err := origin.ParseList(org.AllowedOrigins)
	if err != nil {
		return nil, err
	}
	p := &orgPolicy{origins: slices.Clone(org.AllowedOrigins), allowed: allowed, csp: allowed.FrameAncestors()}
	if c.n.Add(1) > maxCachedPolicies {
		c.m.Clear()
		c.n.Store(1)
	}
	c.m.Store(org.ID, p)
	return p, nil
}
