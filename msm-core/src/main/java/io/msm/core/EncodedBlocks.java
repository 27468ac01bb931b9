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
    private int carried;

    /** @return what the transcoder kept, or null */
    public Object kept() {
        return kept;
    }

    /**
     * @param reused attributes whose bytes this encode took from the last one
     * @param written attributes it serialized
     */
    public void keep(Object kept, int reused, int written) {
        keep(kept, reused, written, 0);
    }

    /**
     * @param carried attributes whose last bytes stand in for a value that changed while it was
     *     written: in the copy, but not as memory holds it
     */
    public void keep(Object kept, int reused, int written, int carried) {
        this.kept = kept;
        this.reused = reused;
        this.written = written;
        this.carried = carried;
    }

    public int reused() {
        return reused;
    }

    public int written() {
        return written;
    }

    public int carried() {
        return carried;
    }
}
