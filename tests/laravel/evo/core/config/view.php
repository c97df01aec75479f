<?php

return [
    'paths' => [EVO_CORE_PATH . 'views'],
    'compiled' => storage_path('views'),
];
