package io.msm.core;

/**
 * What a transcoder kept of one session's last encode or decode, so that its next encode writes
 * again only the attributes that changed. The engine keeps it beside the session and hands it back;
 * what it holds belongs to the transcoder that made it, and any other transcoder ignores it. Used by
 * one thread at a time: the request or backup that encodes the session.
 */
public final class EncodedBlocks {
    private Object kept;
    private int reused;
    private int written;

    /** @return what the transcoder kept, or null */
    public Object kept() {
        return kept;
    }

    /**
     * @param reused attributes whose bytes this encode took from the last one
     * @param written attributes it serialized
     */
    public void keep(Object kept, int reused, int written) {
        this.kept = kept;
        this.reused = reused;
        this.written = written;
    }

    public int reused() {
        return reused;
    }

    public int written() {
        return written;
    }
}
