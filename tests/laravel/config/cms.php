<?php

// Evolution CMS keeps site settings in cms.settings (core/custom/config/cms/settings);
// the package merges check_sTask and sTaskVer into them without replacing these.
return [
    'settings' => [
        'site_name' => 'stask harness',
    ],
];
