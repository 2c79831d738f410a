package psrp

import (
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// StreamEnded: a pipeline this client started must get its final state; an
// adopted one of which nothing arrived may have had everything delivered to
// the client connected before (not a loss); an adopted one that received
// part of its stream lost the rest.
func TestStreamEnded(t *testing.T) {
	c, pls := runningPipelines(t, 1)
	var ge *GapError
	require.True(t, errors.As(c.StreamEnded(pls[0].ID()), &ge), "started here, nothing received")
	assert.True(t, ge.Truncated)

	c, _ = openedClient(t)
	idle, err := c.AdoptPipeline(uuid.New())
	require.NoError(t, err)
	assert.NoError(t, c.StreamEnded(idle.ID()), "adopted, nothing received: the earlier client had it all")

	part, err := c.AdoptPipeline(uuid.New())
	require.NoError(t, err)
	id := base(c)
	ev, err := c.ReceiveData(outputPayload(t, id, part, "a"))
	require.NoError(t, err)
	assert.Equal(t, []string{"a"}, outputs(t, ev))
	ge = nil
	require.True(t, errors.As(c.StreamEnded(part.ID()), &ge), "adopted, part received, no final state")
	assert.True(t, ge.Truncated)
	assert.Equal(t, id, ge.Last)

	_, err = c.ReceiveData(completedPayload(t, id+1, part))
	require.NoError(t, err)
	assert.NoError(t, c.StreamEnded(part.ID()), "ended")
}
