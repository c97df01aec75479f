<?php

// The host's config/stask.php (merged over the package's defaults).
return [
    'routes' => [
        'prefix' => env('STASK_ROUTE_PREFIX', 'stask'),
        'middleware' => env('STASK_ROUTE_MIDDLEWARE') ? explode(',', env('STASK_ROUTE_MIDDLEWARE')) : null,
    ],
];
