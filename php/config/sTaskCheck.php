<?php

// Merged into `cms.settings`: evo()->getConfig('check_sTask') and evo()->getConfig('sTaskVer').
return [
    'check_sTask' => true,
    'sTaskVer' => \extension_loaded('stask') ? \Seiger\sTask\Facades\sTask::version() : null,
];
