<?php

// The site's settings (system_settings) as evo()->getConfig() reads them.
return [
    'site_status' => 1,
    'site_url' => MODX_SITE_URL,
    'manager_language' => env('EVO_MANAGER_LANGUAGE', 'english'),
];
