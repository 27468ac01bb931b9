package io.msm.tomcat;

import java.security.Principal;

/** How a logged-in principal is stored: a Tomcat line whose principal cannot be serialized converts it. */
interface PrincipalStorage {
    Principal principalToStore(Principal principal);

    /** The inverse of {@link #principalToStore}. */
    Principal principalLoaded(Principal stored);
}
